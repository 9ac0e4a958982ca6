import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-client.js';
import { createSignal, withDeadline, type Signal } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

const PROMISED = 1000;
const SENT = Buffer.from(`{"id":"x","data":"${'a'.repeat(400)}`);

let upstream: MockUpstream;
let relay: RunningRelay;
/** Released once the client holds the partial body (or at once, for clients that cannot tell). */
let partialSeen: Signal = createSignal();

before(async () => {
  upstream = await startMockUpstream(async (req, res) => {
    const lengthFramed = req.url.includes('framing=length');
    res.writeHead(200, lengthFramed ? { 'content-type': 'application/json', 'content-length': String(PROMISED) } : { 'content-type': 'application/json' });
    res.write(SENT);
    await partialSeen.promise;
    res.socket?.destroy();
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

for (const framing of ['length', 'chunked'] as const) {
  test(`a ${framing}-framed JSON body the backend cuts mid-way reaches a raw client as incomplete, never as a clean short body`, { timeout: 10_000 }, async () => {
    partialSeen = createSignal();
    const res = await withDeadline(
      rawRequest(`${relay.baseURL}/files/file-1/content?framing=${framing}`, {
        onData(received) {
          if (received.length >= SENT.length) partialSeen.resolve();
        },
      }),
      8_000,
      'the cut response to close',
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), SENT.toString(), 'what the backend sent arrived');
    assert.equal(res.complete, false, 'the client can tell the body is incomplete');
    if (framing === 'length') assert.equal(res.headers['content-length'], String(PROMISED));
  });

  test(`fetch rejects reading a ${framing}-framed body the backend cut mid-way`, { timeout: 10_000 }, async () => {
    partialSeen = createSignal();
    partialSeen.resolve();
    const res = await fetch(`${relay.baseURL}/files/file-1/content?framing=${framing}`);
    assert.equal(res.status, 200);
    await withDeadline(assert.rejects(res.arrayBuffer()), 8_000, 'the body read to fail');
  });
}
