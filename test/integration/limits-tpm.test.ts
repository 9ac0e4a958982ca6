import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { estimateTokens } from '../../src/limits/estimate.js';
import { accessLogFor } from '../helpers/access-log.js';
import { chatCompletion, replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor, openAiLikeChatStream, STREAM_USAGE } from '../helpers/usage-fixtures.js';

/**
 * A key's `tpm` (issue 5): a request reserves an estimate (prompt bytes / 4 + max_tokens) when it
 * starts, and the reservation is settled with the usage the backend reports when it ends. So a
 * request the estimate alone would refuse is admitted once the earlier one settled low; a request
 * that does not fit what is left gets 429 `rate_limit_exceeded` of type `tokens`, with the tokens
 * trio and retry-after, and never reaches the backend.
 */

const KEY = 'rk-tpm-limited-0001';
const OPEN = 'rk-tpm-unlimited-0002';
const STREAMER = 'rk-tpm-streamer-0003';
const TPM = 1000;

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  // The message says how many tokens the backend reports it used: "use:700".
  const stream = openAiLikeChatStream();
  upstream = await startMockUpstream((req, res, raw) => {
    const body = JSON.parse(req.body.toString() || '{}') as { model?: string; stream?: boolean; messages?: { content?: string }[] };
    if (body.stream === true) return stream.handler(req, res, raw);
    const used = Number(/use:(\d+)/.exec(body.messages?.[0]?.content ?? '')?.[1] ?? 0);
    const completion = { ...chatCompletion(body.model ?? 'm', 'ok'), usage: { prompt_tokens: 10, completion_tokens: Math.max(0, used - 10), total_tokens: used } };
    replyJson(200, completion)(req, res, undefined as never);
  });
  relay = await startRelay({ backend: { base_url: upstream.url }, auth: { keys: [{ name: 'tpm', key: KEY, tpm: TPM }, { name: 'streamer', key: STREAMER, tpm: TPM }, OPEN] } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

function ask(used: number, maxTokens: number) {
  return { model: 'gpt-4o', messages: [{ role: 'user' as const, content: `use:${used}` }], max_tokens: maxTokens };
}

/** What the relay reserves for these parameters, as the SDK serialises them. */
function estimateOf(params: object): number {
  return estimateTokens(Buffer.from(JSON.stringify(params)), true);
}

test('the estimate is reserved, settled with the real usage, and the request that no longer fits gets 429 of type tokens', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, KEY);
  const first = ask(30, 600);
  const estimate = estimateOf(first);
  assert.ok(estimate > TPM / 2, `one estimate takes most of the minute (${estimate})`);

  const one = await client.chat.completions.create(first, { headers: { 'x-request-id': 'tpm-1' } }).withResponse();
  assert.equal(one.response.headers.get('x-ratelimit-limit-tokens'), String(TPM));
  assert.equal(one.response.headers.get('x-ratelimit-remaining-tokens'), String(TPM - estimate), 'the estimate is reserved');
  assert.match(one.response.headers.get('x-ratelimit-reset-tokens') ?? '', /^\d+(\.\d+)?m?s$/);
  assert.equal(one.response.headers.get('x-ratelimit-limit-requests'), null, 'no requests trio without rpm');
  await accessLogFor(relay, 'tpm-1');

  // Unsettled, what is left (TPM - estimate) would not hold a second estimate. Settled at 30 tokens, it does.
  assert.ok(TPM - estimate < estimateOf(ask(700, 600)));
  const two = await client.chat.completions.create(ask(700, 600), { headers: { 'x-request-id': 'tpm-2' } }).withResponse();
  assert.equal(two.response.status, 200);
  const remaining = Number(two.response.headers.get('x-ratelimit-remaining-tokens'));
  const expected = TPM - 30 - estimateOf(ask(700, 600));
  // The bucket refills at TPM / 60 s: a few tokens may come back while the test runs.
  assert.ok(remaining >= expected && remaining <= expected + 50, `remaining ${remaining}, expected about ${expected}`);
  await accessLogFor(relay, 'tpm-2');

  // Settled at 700: about 270 left, less than the next estimate.
  const before = upstream.requests.length;
  const err = await apiErrorOf(client.chat.completions.create(ask(10, 600)));
  assert.ok(err instanceof OpenAI.RateLimitError, String(err));
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.equal(err.type, 'tokens');
  assert.match(err.message, /tokens per min \(TPM\): Limit 1000, Used \d+, Requested \d+/);
  const left = Number(err.headers.get('x-ratelimit-remaining-tokens'));
  assert.ok(left >= TPM - 730 && left < TPM - 730 + 50, `about 270 tokens left after settling at 700, got ${left}`);
  assert.equal(err.headers.get('x-ratelimit-limit-tokens'), String(TPM));
  assert.match(err.headers.get('x-ratelimit-reset-tokens') ?? '', /^\d+(\.\d+)?m?s$/);
  const retryAfter = Number(err.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after ${err.headers.get('retry-after')}`);
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before, headers: { authorization: `Bearer ${OPEN}` } }), []);
});

test('a request larger than the whole tpm is refused as too large, and never reaches the backend', { timeout: 5_000 }, async () => {
  const before = upstream.requests.length;
  const err = await apiErrorOf(clientFor(relay, KEY).chat.completions.create(ask(10, TPM * 5)));
  assert.ok(err instanceof OpenAI.RateLimitError, String(err));
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.equal(err.type, 'tokens');
  assert.match(err.message, /Request too large .* Limit 1000, Requested \d+/);
  assert.ok(Number(err.headers.get('retry-after')) >= 1);
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before, headers: { authorization: `Bearer ${OPEN}` } }), []);
});

test('a stream is settled with the usage of its final chunk (asked for by the relay, hidden from the client)', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, STREAMER);
  const params = { ...ask(0, 600), stream: true as const };
  const estimate = estimateOf(params);
  const { data: stream, response } = await client.chat.completions.create(params, { headers: { 'x-request-id': 'tpm-stream' } }).withResponse();
  assert.equal(response.headers.get('x-ratelimit-remaining-tokens'), String(TPM - estimate), 'a stream carries the tokens trio too');
  for await (const chunk of stream) assert.equal(chunk.usage, undefined);
  await accessLogFor(relay, 'tpm-stream');

  // Unsettled, TPM - estimate would not hold the next estimate; settled at the stream's 19 tokens, it does.
  assert.ok(TPM - estimate < estimateOf(ask(5, 600)));
  const next = await client.chat.completions.create(ask(5, 600)).withResponse();
  const remaining = Number(next.response.headers.get('x-ratelimit-remaining-tokens'));
  const expected = TPM - STREAM_USAGE.total_tokens - estimateOf(ask(5, 600));
  assert.ok(remaining >= expected && remaining <= expected + 50, `remaining ${remaining}, expected about ${expected}`);
});
