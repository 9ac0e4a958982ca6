import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import {
  assertCost,
  clientFor,
  openAiLikeChatStream,
  rawBody,
  readUsageRecords,
  recordOf,
  STREAM_USAGE,
  tempUsageDatabase,
  type OpenAiLikeStream,
  type TempDatabase,
} from '../helpers/usage-fixtures.js';

/**
 * A streamed chat completion whose client did not ask for `stream_options.include_usage` (issue 5):
 * the relay asks the backend for it (adding the member, every other request byte kept), reads the
 * usage chunk as it passes, and removes what the client did not ask for (the `"usage":null`
 * members and the final usage chunk). The client receives byte for byte what it receives from a
 * relay without usage accounting; the record has the stream's tokens.
 */

const KEY = 'rk-stream-injected-0001';

let mock: OpenAiLikeStream;
let upstream: MockUpstream;
let accounting: RunningRelay;
let plain: RunningRelay;
let db: TempDatabase;

before(async () => {
  db = tempUsageDatabase();
  mock = openAiLikeChatStream();
  upstream = await startMockUpstream(mock.handler);
  const common = { backends: [{ name: 'oai', base_url: upstream.url }], auth: { keys: [{ name: 'streamer', key: KEY }] } };
  accounting = await startRelay({ ...common, usage: { database: db.path, prices: { 'gpt-4o': { input: 2.5, output: 10, cached_input: 1.25 } } } });
  plain = await startRelay(common);
});
after(async () => {
  await accounting.close();
  await plain.close();
  await upstream.close();
  db.remove();
});

const BODY = '{"model":"gpt-4o","stream":true,"temperature":0.5,"messages":[{"role":"user","content":"Say hello"}],"user":"u-1"}';

async function rawStream(relay: RunningRelay, requestId: string): Promise<{ body: Buffer; headers: Headers }> {
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-request-id': requestId },
    body: BODY,
  });
  assert.equal(res.status, 200);
  return { body: await rawBody(res), headers: res.headers };
}

test('an SDK client of the accounting relay sees the chunks it asked for, and no usage', { timeout: 5_000 }, async () => {
  const stream = await clientFor(accounting, KEY).chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Say hello' }] });
  const pieces: string[] = [];
  for await (const chunk of stream) {
    assert.equal(chunk.usage, undefined, 'no usage member, not even null');
    assert.ok(chunk.choices.length > 0, 'no usage-only chunk');
    pieces.push(chunk.choices[0]?.delta.content ?? '');
  }
  assert.equal(pieces.join(''), 'Hello there!');
  assert.deepEqual(JSON.parse(upstream.requests.at(-1)?.body.toString() ?? '{}').stream_options, { include_usage: true });
});

test('the backend is asked for include_usage, and the client bytes equal those of a relay without accounting', { timeout: 5_000 }, async () => {
  const withAccounting = await rawStream(accounting, 'inj-1');
  const sentWith = upstream.requests.at(-1);
  const withoutAccounting = await rawStream(plain, 'inj-2');
  const sentWithout = upstream.requests.at(-1);

  assert.equal(
    sentWith?.body.toString(),
    `${BODY.slice(0, -1)},"stream_options":{"include_usage":true}}`,
    'the member is added at the end, every other byte kept',
  );
  assert.equal(sentWithout?.body.toString(), BODY, 'without accounting the body passes as sent');

  // The backend really did send the extra bytes to the accounting relay...
  const [streamedWithUsage, streamedPlain] = mock.written.slice(-2) as [Buffer, Buffer];
  assert.ok(streamedWithUsage.toString().includes('"usage":null'));
  assert.ok(streamedWithUsage.toString().includes('"choices":[],"usage":{'));
  assert.equal(withoutAccounting.body.toString(), streamedPlain.toString(), 'a relay without accounting passes the stream verbatim');
  // ...and its client saw none of them.
  assert.equal(withAccounting.body.toString(), withoutAccounting.body.toString());
  assert.ok(withAccounting.body.equals(withoutAccounting.body), 'byte-identical client output');
  assert.match(withAccounting.headers.get('content-type') ?? '', /^text\/event-stream/);

  await accounting.close();
  const r = recordOf(readUsageRecords(db.path), 'inj-1');
  assert.equal(r.stream, true);
  assert.equal(r.aborted, false);
  assert.equal(r.status, 200);
  assert.equal(r.key_name, 'streamer');
  assert.equal(r.backend, 'oai');
  assert.equal(r.model_asked, 'gpt-4o');
  assert.equal(r.prompt_tokens, STREAM_USAGE.prompt_tokens);
  assert.equal(r.completion_tokens, STREAM_USAGE.completion_tokens);
  assert.equal(r.cached_tokens, STREAM_USAGE.prompt_tokens_details.cached_tokens);
  assert.equal(r.reasoning_tokens, STREAM_USAGE.completion_tokens_details.reasoning_tokens);
  assert.equal(r.total_tokens, STREAM_USAGE.total_tokens);
  assertCost(r.cost, (8 * 2.5 + 4 * 1.25 + 7 * 10) / 1e6);
  assert.ok(r.ttft_ms !== null && r.ttft_ms > 0 && r.ttft_ms <= r.duration_ms, `ttft ${r.ttft_ms}, duration ${r.duration_ms}`);
});
