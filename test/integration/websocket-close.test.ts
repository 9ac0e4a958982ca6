import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { openWs, sessionLog, wsUrl, type WsClient } from '../helpers/ws-client.js';
import type { BackendConnection } from '../helpers/mock-ws-backend.js';

let backend: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' } });
});
after(async () => {
  await relay.close();
  await backend.close();
});

async function session(): Promise<{ client: WsClient; conn: BackendConnection; requestId: string }> {
  const client = await openWs(wsUrl(relay, '/v1/realtime?model=m'));
  const conn = await backend.nextConnection();
  return { client, conn, requestId: String(conn.handshake.headers['x-request-id']) };
}

test('the client\'s close code and reason reach the backend', { timeout: 10_000 }, async () => {
  const { client, conn, requestId } = await session();
  client.ws.close(4001, 'client says bye');
  assert.deepEqual(await conn.closed, { code: 4001, reason: 'client says bye' });
  assert.deepEqual(await client.closed, { code: 4001, reason: 'client says bye' });
  const log = await sessionLog(relay, requestId);
  assert.equal(log.close_code, 4001);
  assert.equal(log.closed_by, 'client');
});

test('the backend\'s close code and reason reach the client', { timeout: 10_000 }, async () => {
  const { client, conn, requestId } = await session();
  conn.ws.close(1011, 'backend failed');
  assert.deepEqual(await client.closed, { code: 1011, reason: 'backend failed' });
  assert.equal((await conn.closed).code, 1011);
  const log = await sessionLog(relay, requestId);
  assert.equal(log.close_code, 1011);
  assert.equal(log.closed_by, 'backend');
});

test('a close without a status code is passed on as one without a status code (1005)', { timeout: 10_000 }, async () => {
  const { client, conn } = await session();
  client.ws.close();
  assert.equal((await conn.closed).code, 1005);
});

test('a client vanishing mid-session closes the backend side promptly with 1001', { timeout: 10_000 }, async () => {
  const { client, conn, requestId } = await session();
  client.ws.send('half a conversation');
  await conn.nextMessage();
  const start = performance.now();
  client.ws.terminate(); // the TCP connection drops: no close frame
  const closed = await conn.closed;
  assert.equal(closed.code, 1001);
  assert.ok(performance.now() - start < 1000, 'closed at once, not after a timeout');
  const log = await sessionLog(relay, requestId);
  assert.equal(log.closed_by, 'client');
  assert.equal(log.close_code, 1006);
});

test('a backend vanishing mid-session closes the client with 1014 (bad gateway)', { timeout: 10_000 }, async () => {
  const { client, conn } = await session();
  conn.ws.terminate();
  const closed = await client.closed;
  assert.equal(closed.code, 1014);
});

test('a message over request.max_body_size ends the session: 1009 to its sender, 1001 to the other side', { timeout: 10_000 }, async () => {
  const small = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' }, request: { max_body_size: '1kb' } });
  try {
    const client = await openWs(wsUrl(small, '/v1/realtime?model=m'));
    const conn = await backend.nextConnection();
    client.ws.send(Buffer.alloc(2048), { binary: true });
    assert.equal((await client.closed).code, 1009);
    assert.equal((await conn.closed).code, 1001);
    assert.equal(conn.messages.length, 0, 'the oversized message was not forwarded');
    const log = await sessionLog(small, String(conn.handshake.headers['x-request-id']));
    assert.equal(log.closed_by, 'client');
    assert.equal(log.ws_error, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  } finally {
    await small.close();
  }
});
