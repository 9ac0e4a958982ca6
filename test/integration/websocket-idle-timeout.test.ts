import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { openWs, sessionLog, wsUrl } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' }, websocket: { idle_timeout: 0.4 } });
});
after(async () => {
  await relay.close();
  await backend.close();
});

test('a session with traffic outlives the idle timeout; a silent one is closed with 1001 on both sides', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(relay, '/v1/realtime?model=m'));
  const conn = await backend.nextConnection();
  const start = performance.now();
  // Traffic every 100 ms for 800 ms: twice the idle timeout, and still open.
  let lastActivity = 0;
  for (let i = 0; i < 8; i++) {
    client.ws.send(`tick ${i}`);
    await client.nextMessage();
    // Silence is counted from the last frame through the relay, not from after the pause below.
    lastActivity = performance.now();
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(client.ws.readyState, client.ws.OPEN);
  const [atClient, atBackend] = await Promise.all([client.closed, conn.closed]);
  const silent = performance.now() - lastActivity;
  assert.deepEqual(atClient, { code: 1001, reason: 'idle timeout' });
  assert.deepEqual(atBackend, { code: 1001, reason: 'idle timeout' });
  assert.ok(silent >= 300 && silent < 2000, `closed after ${silent.toFixed(0)} ms of silence`);
  assert.ok(performance.now() - start > 800);
  const log = await sessionLog(relay, String(conn.handshake.headers['x-request-id']));
  assert.equal(log.closed_by, 'relay');
  assert.equal(log.close_code, 1001);
});
