import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { chatChunk, sleep, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { createSignal, type Signal } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

const PIECES = ['The', ' relay', ' does', ' not', ' buffer'];

let upstream: MockUpstream;
let relay: RunningRelay;
/** acks[i] is released by the client when it has received chunk i; the mock writes chunk i+1 only then. */
let acks: Signal[] = [];
let writtenAt: number[] = [];
let finished = false;

before(async () => {
  upstream = await startMockUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    for (const [i, piece] of PIECES.entries()) {
      if (i > 0) {
        // Gate: the next event leaves the backend only after the client saw the previous one.
        await (acks[i - 1] as Signal).promise;
        await sleep(200);
      }
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(chatChunk('gpt-4o', piece))}\n\n`);
      writtenAt.push(performance.now());
    }
    res.end('data: [DONE]\n\n', () => {
      finished = true;
    });
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('the SDK receives each 200 ms-spaced chunk before the backend sends the next, in order, and the stream ends normally', { timeout: 10_000 }, async () => {
  acks = PIECES.map(() => createSignal());
  writtenAt = [];
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'stream please' }], stream: true },
    { headers: { 'x-request-id': 'stream-first-chunk' } },
  );
  const received: string[] = [];
  const receivedAt: number[] = [];
  for await (const chunk of stream) {
    receivedAt.push(performance.now());
    received.push(chunk.choices[0]?.delta.content ?? '');
    acks[received.length - 1]?.resolve();
  }

  assert.deepEqual(received, PIECES);
  assert.equal(writtenAt.length, PIECES.length);
  // If the relay held any chunk back, the gate above would never open and the test would time out;
  // the timestamps say the same thing: the first chunk arrived before the backend wrote the last.
  assert.ok((receivedAt[0] as number) < (writtenAt.at(-1) as number), 'first chunk seen before the last was sent');
  for (let i = 0; i + 1 < PIECES.length; i++) {
    assert.ok((receivedAt[i] as number) < (writtenAt[i + 1] as number), `chunk ${i} seen before chunk ${i + 1} was sent`);
  }
  assert.equal(finished, true, 'the backend finished its response');
  assert.equal(upstream.requests.length, 1);
  assert.equal(JSON.parse(upstream.requests[0]?.body.toString() ?? '{}').stream, true);

  const log = await accessLogFor(relay, 'stream-first-chunk');
  assert.equal(log.status, 200);
  assert.equal(log.stream, true);
  assert.equal(log.outcome, 'ok');
});
