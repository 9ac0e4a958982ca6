import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { chatChunk, sleep, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-client.js';
import { createSignal, withDeadline, type Signal } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;
let chunksWritten = 0;
/** Released when a request that will never get headers has reached the backend. */
let hangArrived: Signal = createSignal();

before(async () => {
  upstream = await startMockUpstream(async (req, res) => {
    if (req.body.toString().includes('"hang"')) {
      hangArrived.resolve(); // and never sends headers
      return;
    }
    // A long, paid stream: one chunk every 50 ms for up to 20 s, unless the relay closes it.
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < 400 && !res.destroyed; i++) {
      res.write(`data: ${JSON.stringify(chatChunk('gpt-4o', `t${i}`))}\n\n`);
      chunksWritten++;
      await sleep(50);
    }
    if (!res.destroyed) res.end('data: [DONE]\n\n');
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('an SDK abort mid-stream closes the upstream response at once and is logged as client_closed_request', { timeout: 10_000 }, async () => {
  const upstreamClosed = upstream.nextAbort();
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'long story' }], stream: true },
    { headers: { 'x-request-id': 'abort-sdk' } },
  );
  const received: string[] = [];
  for await (const chunk of stream) {
    received.push(chunk.choices[0]?.delta.content ?? '');
    if (received.length === 2) stream.controller.abort();
  }
  assert.deepEqual(received.slice(0, 2), ['t0', 't1']);
  await withDeadline(upstreamClosed, 2_000, 'the relay to close the upstream response after the client left');
  const writtenAtClose = chunksWritten;
  assert.ok(writtenAtClose < 100, `the backend stopped streaming into the void (${writtenAtClose} chunks)`);

  const log = await accessLogFor(relay, 'abort-sdk');
  assert.equal(log.outcome, 'client_closed_request');
  assert.equal(log.stream, true);
});

test('a raw client destroying its socket mid-stream closes the upstream response and is logged as client_closed_request', { timeout: 10_000 }, async () => {
  const upstreamClosed = upstream.nextAbort();
  const res = await rawRequest(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'abort-raw' },
    body: '{"model":"gpt-4o","stream":true,"messages":[]}',
    onData: (received) => received.includes('"t0"'),
  });
  assert.equal(res.status, 200);
  assert.equal(res.complete, false);
  await withDeadline(upstreamClosed, 2_000, 'the relay to close the upstream response after the socket was destroyed');

  const log = await accessLogFor(relay, 'abort-raw');
  assert.equal(log.outcome, 'client_closed_request');
});

test('a client abort while the relay waits for the backend headers aborts the upstream request (logged 499)', { timeout: 10_000 }, async () => {
  hangArrived = createSignal();
  const before = upstream.requests.length;
  const upstreamClosed = upstream.nextAbort();
  const controller = new AbortController();
  const pending = fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'abort-waiting' },
    body: '{"model":"hang","messages":[]}',
    signal: controller.signal,
  }).then(
    () => assert.fail('expected the fetch to be aborted'),
    (e: unknown) => e,
  );
  await withDeadline(hangArrived.promise, 5_000, 'the request to reach the backend');
  controller.abort();
  const err = await pending;
  assert.ok(err instanceof Error && err.name === 'AbortError', `got ${String(err)}`);
  await withDeadline(upstreamClosed, 2_000, 'the relay to abort the upstream request');
  assert.equal(upstream.requests.length, before + 1, 'the request was not retried');

  const log = await accessLogFor(relay, 'abort-waiting');
  assert.equal(log.status, 499);
  assert.equal(log.outcome, 'client_closed_request');
});
