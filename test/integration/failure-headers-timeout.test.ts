import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { chatCompletion, replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { withDeadline } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  // Requests for the model "hang" never get response headers; others are answered at once.
  upstream = await startMockUpstream((req, res) => {
    if (req.body.toString().includes('"hang"')) return;
    replyJson(200, chatCompletion('gpt-4o', 'fine'))(req, res, undefined as never);
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' }, request: { timeout: 0.3 } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('no response headers within request.timeout gives 504 upstream_timeout quickly, and the relay serves the next request', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const upstreamClosed = upstream.nextAbort();
  const started = Date.now();
  const err = await client.chat.completions
    .create({ model: 'hang', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'headers-timeout-1' } })
    .then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
  const elapsed = Date.now() - started;
  assert.ok(err instanceof OpenAI.APIError && !(err instanceof OpenAI.APIConnectionError), `got ${String(err)}`);
  assert.equal(err.status, 504);
  assert.equal(err.code, 'upstream_timeout');
  assert.equal(err.type, 'timeout_error');
  assert.ok(elapsed >= 250 && elapsed < 3_000, `answered after about the timeout (${elapsed} ms)`);
  await withDeadline(upstreamClosed, 2_000, 'the relay to close the hanging upstream request');

  const log = await accessLogFor(relay, 'headers-timeout-1');
  assert.equal(log.status, 504);
  assert.equal(log.outcome, 'upstream_timeout');

  const next = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'again' }] });
  assert.equal(next.choices[0]?.message.content, 'fine');
  assert.equal(upstream.requests.length, 2);
});

test('the headers-timeout answer is an OpenAI-shaped JSON body', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"hang","messages":[]}',
  });
  assert.equal(res.status, 504);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).filter((k) => k !== 'param').sort(), ['code', 'message', 'type']);
  assert.equal(body.error.code, 'upstream_timeout');
});
