import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { chatChunk, chatCompletion, replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-client.js';
import { createSignal, withDeadline, type Signal } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;
/** Released by the client once it saw the two chunks; the backend then dies. */
let sawTwo: Signal = createSignal();

before(async () => {
  upstream = await startMockUpstream(async (req, res) => {
    if (!req.body.toString().includes('"stream":true')) {
      replyJson(200, chatCompletion('gpt-4o', 'still here'))(req, res, undefined as never);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify(chatChunk('gpt-4o', 'one'))}\n\n`);
    res.write(`data: ${JSON.stringify(chatChunk('gpt-4o', 'two'))}\n\n`);
    await sawTwo.promise;
    res.socket?.destroy();
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const client = (): OpenAI => new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });

test('the SDK sees the first chunks, then an error, when the backend dies mid-stream; the relay serves the next request', { timeout: 10_000 }, async () => {
  sawTwo = createSignal();
  const stream = await client().chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'go' }], stream: true },
    { headers: { 'x-request-id': 'mid-stream-sdk' } },
  );
  const received: string[] = [];
  await withDeadline(
    assert.rejects(async () => {
      for await (const chunk of stream) {
        received.push(chunk.choices[0]?.delta.content ?? '');
        if (received.length === 2) sawTwo.resolve();
      }
    }),
    8_000,
    'the SDK iteration to fail',
  );
  assert.deepEqual(received, ['one', 'two']);

  const log = await accessLogFor(relay, 'mid-stream-sdk');
  assert.equal(log.stream, true);
  assert.notEqual(log.outcome, 'ok', 'the access log does not call a broken stream a success');

  const next = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'again' }] });
  assert.equal(next.choices[0]?.message.content, 'still here');
});

test('a raw client sees the chunks, then a data: {"error"} event and no [DONE], when the backend dies mid-stream', { timeout: 10_000 }, async () => {
  sawTwo = createSignal();
  const two = `data: ${JSON.stringify(chatChunk('gpt-4o', 'one'))}\n\ndata: ${JSON.stringify(chatChunk('gpt-4o', 'two'))}\n\n`;
  const res = await withDeadline(
    rawRequest(`${relay.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"gpt-4o","stream":true,"messages":[]}',
      onData(received) {
        if (received.toString().startsWith(two)) sawTwo.resolve();
      },
    }),
    8_000,
    'the broken stream to close',
  );
  assert.equal(res.status, 200);
  const text = res.body.toString();
  assert.ok(text.startsWith(two), text);
  const m = /^data: (\{"error".*)$/m.exec(text.slice(two.length));
  assert.ok(m, `an error event follows the chunks: ${text}`);
  const event = JSON.parse(m[1] as string) as { error: Record<string, unknown> };
  assert.equal(event.error.type, 'api_error');
  assert.equal(typeof event.error.code, 'string');
  assert.equal(typeof event.error.message, 'string');
  assert.ok(!text.includes('[DONE]'));
  assert.equal(res.complete, false, 'the chunked response is not terminated cleanly');

  const health = await fetch(`${relay.url}/health`);
  assert.equal(health.status, 200);
});
