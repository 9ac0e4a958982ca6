import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// A backend streaming far more than the sockets in between can hold, to a client that does not
// read: the relay must hold the backend back (src/proxy/response.ts waits for the client socket's
// 'drain'), not buffer the stream in memory; once the client reads, every byte arrives.
const TOTAL = 48 * 1024 * 1024;
const PIECE = Buffer.alloc(64 * 1024, 0x61);

let upstream: MockUpstream;
let relay: RunningRelay;
let written = 0;
let lastProgress = 0;
let finished: Promise<void> = Promise.resolve();

before(async () => {
  upstream = await startMockUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let done!: () => void;
    finished = new Promise((resolve) => (done = resolve));
    for (written = 0; written < TOTAL; ) {
      written += PIECE.length;
      lastProgress = performance.now();
      if (!res.write(PIECE)) await once(res, 'drain');
    }
    res.end(done);
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

/** Resolves once the backend has made no progress for `quietMs` (it is blocked on 'drain'). */
async function stalled(quietMs: number, deadlineMs: number): Promise<void> {
  const start = performance.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs / 4));
    if (written > 0 && performance.now() - lastProgress >= quietMs) return;
    if (performance.now() - start > deadlineMs) throw new Error(`the backend never stalled (${written} bytes written)`);
  }
}

test('a client that does not read holds the backend back; when it reads, all 48 MiB arrive', { timeout: 30_000 }, async () => {
  const socket = connect(relay.port, '127.0.0.1');
  await once(socket, 'connect');
  const body = '{"model":"gpt-4o","stream":true,"messages":[]}';
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: relay\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
  );
  socket.pause();
  // An observation window: nothing signals "blocked", only the absence of progress does.
  await stalled(300, 20_000);
  const whileBlocked = written;
  assert.ok(whileBlocked < TOTAL / 2, `the backend wrote ${whileBlocked} of ${TOTAL} bytes to a client that read nothing`);

  let received = 0;
  let tail = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    tail = Buffer.concat([tail, chunk]).subarray(-16);
  });
  socket.resume();
  await once(socket, 'close');
  await finished;
  assert.equal(written, TOTAL);
  // Head + chunk framing + 48 MiB of 'a': the body is at least all the payload, and the stream ended cleanly.
  assert.ok(received > TOTAL, `received ${received} bytes`);
  assert.ok(tail.toString('latin1').endsWith('\r\n0\r\n\r\n'), 'the chunked body ended with its last chunk');
});
