import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { startMockWsBackend, type BackendConnection, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { wsUrl } from '../helpers/ws-client.js';

/**
 * A slow reader must slow the sender down, not grow the relay's memory. The sender below writes
 * 1 MiB messages only as fast as its own socket takes them, and counts what its kernel accepted:
 * with backpressure that stalls at a few MiB (socket buffers plus the relay's high-water mark);
 * without it the relay would swallow all 128 MiB.
 */

const MiB = 1024 * 1024;
const COUNT = 128;
/** Socket buffers on loopback plus the relay's 1 MiB high-water mark stay well under this. */
const BOUND = 48;
const chunk = Buffer.alloc(MiB, 0x61);

let backend: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  backend = await startMockWsBackend(() => undefined, { keepMessages: false });
  relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' } });
});
after(async () => {
  await relay.close();
  await backend.close();
});

/** Sends COUNT messages as fast as `ws`'s own socket accepts them; `accepted()` is how many were flushed to the kernel. */
function flood(ws: WebSocket): { accepted: () => number; stalled: () => Promise<void> } {
  let sent = 0;
  let flushed = 0;
  let last = Date.now();
  const pump = (): void => {
    while (sent < COUNT && ws.bufferedAmount < 2 * MiB) {
      sent++;
      ws.send(chunk, { binary: true }, () => {
        flushed++;
        last = Date.now();
        pump();
      });
    }
  };
  pump();
  return {
    accepted: () => flushed,
    // Quiet for 300 ms: the sender is blocked (or done).
    async stalled() {
      while (Date.now() - last < 300) await new Promise((r) => setTimeout(r, 25));
    },
  };
}

function countBytes(ws: WebSocket): { bytes: () => number; all: Promise<void> } {
  let bytes = 0;
  const all = new Promise<void>((resolve) =>
    ws.on('message', (data: Buffer) => {
      bytes += data.length;
      if (bytes >= COUNT * MiB) resolve();
    }),
  );
  return { bytes: () => bytes, all };
}

async function openRaw(): Promise<{ client: WebSocket; conn: BackendConnection }> {
  const client = new WebSocket(wsUrl(relay, '/v1/realtime?model=m'), { perMessageDeflate: false });
  client.on('error', () => undefined);
  await new Promise((resolve) => client.once('open', resolve));
  return { client, conn: await backend.nextConnection() };
}

test('a slow client pauses the backend: the relay holds a few MiB, not the whole flood, and everything arrives later', { timeout: 30_000 }, async () => {
  const { client, conn } = await openRaw();
  const received = countBytes(client);
  client.pause();
  const sender = flood(conn.ws);
  await sender.stalled();
  assert.ok(sender.accepted() < BOUND, `the backend could push ${sender.accepted()} MiB into a paused client`);
  assert.equal(received.bytes(), 0);
  client.resume();
  await received.all;
  assert.equal(received.bytes(), COUNT * MiB);
  assert.equal(sender.accepted(), COUNT);
  client.close();
  await conn.closed;
});

test('a slow backend pauses the client: the relay holds a few MiB, not the whole flood, and everything arrives later', { timeout: 30_000 }, async () => {
  const { client, conn } = await openRaw();
  const received = countBytes(conn.ws);
  conn.ws.pause();
  const sender = flood(client);
  await sender.stalled();
  assert.ok(sender.accepted() < BOUND, `the client could push ${sender.accepted()} MiB into a paused backend`);
  conn.ws.resume();
  await received.all;
  assert.equal(received.bytes(), COUNT * MiB);
  client.close();
  await conn.closed;
});
