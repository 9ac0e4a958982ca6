import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { chatChunk, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-client.js';
import { clientOf, closeAll, startLabelled } from '../helpers/routing.js';
import { createSignal, withDeadline, type Signal } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// Once the first byte of a response went to the client nothing is retried: a backend dying
// mid-stream leaves the client with a truncated stream, and the next backend never hears of it.

let dying: MockUpstream;
let spare: MockUpstream;
let relay: RunningRelay;
/** Released by the client once it saw the first chunk; the backend then drops the connection. */
let sawOne: Signal = createSignal();

before(async () => {
  dying = await startMockUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify(chatChunk('gpt-4o', 'one'))}\n\n`);
    await sawOne.promise;
    res.socket?.destroy();
  });
  spare = await startLabelled('spare');
  relay = await startRelay({
    retry: { backoff: 0, max_attempts: 3 },
    backends: [
      { name: 'dying', base_url: dying.url, priority: 0 },
      { name: 'spare', base_url: spare.url, priority: 1 },
    ],
  });
});
after(() => closeAll(relay, dying, spare));

test('the SDK sees the first chunk then an error; the second backend receives nothing', { timeout: 10_000 }, async () => {
  sawOne = createSignal();
  const stream = await clientOf(relay).chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'go' }], stream: true },
    { headers: { 'x-request-id': 'stream-no-retry' } },
  );
  const received: string[] = [];
  await withDeadline(
    assert.rejects(async () => {
      for await (const chunk of stream) {
        received.push(chunk.choices[0]?.delta.content ?? '');
        sawOne.resolve();
      }
    }),
    4_000,
    'the SDK iteration to fail',
  );
  assert.deepEqual(received, ['one']);
  assert.equal(spare.requests.length, 0, 'no retry after the first byte');
  assert.equal(dying.requests.length, 1);
  const log = await accessLogFor(relay, 'stream-no-retry');
  assert.equal(log.backend, 'dying');
  assert.equal(log.attempts, 1);
  assert.equal(log.retried, undefined);
  assert.notEqual(log.outcome, 'ok');
});

test('a raw client sees the headers of the dying backend and a body that does not end cleanly', { timeout: 10_000 }, async () => {
  sawOne = createSignal();
  const res = await withDeadline(
    rawRequest(`${relay.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"gpt-4o","stream":true,"messages":[]}',
      onData(received) {
        if (received.includes('"one"')) sawOne.resolve();
      },
    }),
    4_000,
    'the broken stream to close',
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-relay-backend'], 'dying');
  assert.equal(res.headers['x-relay-attempts'], '1');
  assert.ok(!res.body.toString().includes('[DONE]'));
  assert.equal(res.complete, false, 'the response is truncated');
  assert.equal(spare.requests.length, 0);
});
