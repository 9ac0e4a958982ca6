import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-client.js';
import { createSignal, withDeadline, type Signal } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// 'é' is C3 A9 and '😀' is F0 9F 98 80: each is split across two separate writes of the backend.
const CAFE = Buffer.from('café', 'utf8');
const GRIN = Buffer.from('😀', 'utf8');
const PART1 = Buffer.concat([
  Buffer.from(': ping\r\n\r\nevent: message\r\nid: evt-1\r\nretry: 3000\r\ndata: {"a":1}\r\n\r\n: keep-alive comment\r\n\r\n'),
  Buffer.from('event: delta\r\nid: evt-2\r\ndata: {"text":"'),
  CAFE.subarray(0, 4), // "caf" + C3
]);
const PART2 = Buffer.concat([
  CAFE.subarray(4), // A9
  Buffer.from('"}\r\n\r\nid: evt-3\r\ndata: {"text":"'),
  GRIN.subarray(0, 2),
]);
const PART3 = Buffer.concat([GRIN.subarray(2), Buffer.from('"}\r\n\r\n: ping\r\n\r\ndata: [DONE]\r\n\r\n')]);
const ALL = Buffer.concat([PART1, PART2, PART3]);

let upstream: MockUpstream;
let relay: RunningRelay;
let gates: Signal[] = [];

before(async () => {
  upstream = await startMockUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-upstream-marker': 'sse' });
    res.write(PART1);
    await (gates[0] as Signal).promise;
    res.write(PART2);
    await (gates[1] as Signal).promise;
    res.end(PART3);
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('event, id, retry and comment lines, CRLF ends and UTF-8 split across backend writes arrive byte-identical', { timeout: 10_000 }, async () => {
  gates = [createSignal(), createSignal()];
  const completeEvents1 = PART1.subarray(0, PART1.lastIndexOf('\r\n\r\n') + 4);
  const completeEvents2 = Buffer.concat([PART1, PART2.subarray(0, PART2.lastIndexOf('\r\n\r\n') + 4)]);
  const res = await withDeadline(
    rawRequest(`${relay.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip, deflate, br', accept: 'text/event-stream' },
      body: '{"model":"gpt-4o","stream":true,"messages":[]}',
      onData(received) {
        // The backend writes its next part only after the complete events of the previous one reached
        // the client: the relay cannot wait for the rest before forwarding.
        if (received.length >= completeEvents1.length && received.subarray(0, completeEvents1.length).equals(completeEvents1)) gates[0]?.resolve();
        if (received.length >= completeEvents2.length && received.subarray(0, completeEvents2.length).equals(completeEvents2)) gates[1]?.resolve();
      },
    }),
    8_000,
    'the relayed event stream',
  );
  assert.equal(res.status, 200);
  assert.equal(res.complete, true);
  assert.equal(res.body.toString('hex'), ALL.toString('hex'));
  assert.ok(res.body.toString('utf8').includes('café') && res.body.toString('utf8').includes('😀'));
  assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(res.headers['x-accel-buffering'], 'no');
  assert.equal(res.headers['cache-control'], 'no-cache');
  assert.equal(res.headers['x-upstream-marker'], 'sse');
  assert.equal(res.headers['content-encoding'], undefined, 'the relay adds no compression');
  assert.equal(upstream.requests.length, 1);
});
