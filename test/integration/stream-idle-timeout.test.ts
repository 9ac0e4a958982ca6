import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { chatChunk, replySse, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-client.js';
import { withDeadline } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// 16 chunks 100 ms apart: 1.5 s in total, beyond the 300 ms timeout even with undici's coarse
// (~0.5 s tick) timers, while no gap comes near it.
const SLOW_STEADY = Array.from({ length: 16 }, (_, i) => `c${i}`);

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((req, res, raw) => {
    if (req.body.toString().includes('"silent"')) {
      // One chunk, then silence longer than the timeout (the connection stays open).
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chatChunk('gpt-4o', 'first'))}\n\n`);
      return;
    }
    return replySse(SLOW_STEADY, { delayMs: 100, model: 'gpt-4o' })(req, res, raw);
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' }, request: { timeout: 0.3 } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const client = (): OpenAI => new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });

test('a stream longer than request.timeout whose chunks come every 100 ms completes', { timeout: 10_000 }, async () => {
  const started = Date.now();
  const stream = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'go' }], stream: true });
  const received: string[] = [];
  for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
  assert.deepEqual(received, SLOW_STEADY);
  assert.ok(Date.now() - started > 1_400, 'the stream lasted well beyond the 300 ms timeout');
});

test('a stream silent for longer than request.timeout after its first chunk makes the SDK iteration throw', { timeout: 10_000 }, async () => {
  const upstreamClosed = upstream.nextAbort();
  const stream = await client().chat.completions.create({ model: 'silent', messages: [{ role: 'user', content: 'go' }], stream: true });
  const received: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
  });
  assert.deepEqual(received, ['first']);
  await withDeadline(upstreamClosed, 2_000, 'the relay to close the silent upstream response');
});

test('a silent stream ends with an SSE error event (upstream_timeout) and no [DONE]', { timeout: 10_000 }, async () => {
  const started = Date.now();
  const res = await rawRequest(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"silent","stream":true,"messages":[]}',
  });
  const elapsed = Date.now() - started;
  assert.equal(res.status, 200);
  const text = res.body.toString();
  assert.ok(text.startsWith(`data: ${JSON.stringify(chatChunk('gpt-4o', 'first'))}\n\n`), text);
  const m = /^data: (\{"error".*)$/m.exec(text);
  assert.ok(m, `an error event follows: ${text}`);
  const event = JSON.parse(m[1] as string) as { error: Record<string, unknown> };
  assert.equal(event.error.code, 'upstream_timeout');
  assert.equal(event.error.type, 'timeout_error');
  assert.equal(typeof event.error.message, 'string');
  assert.ok(!text.includes('[DONE]'), 'no [DONE] after a broken stream');
  assert.equal(res.complete, false, 'the response is not ended as if it were complete');
  assert.ok(elapsed >= 250 && elapsed < 3_000, `cut after about the idle timeout (${elapsed} ms)`);
});
