import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { expectRefused, wsUrl } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' }, websocket: { enabled: false } });
});
after(async () => {
  await relay.close();
  await backend.close();
});

test('with websocket.enabled: false the upgrade is refused and no WebSocket is opened upstream', { timeout: 10_000 }, async () => {
  const refused = await expectRefused(wsUrl(relay, '/v1/realtime?model=m'));
  assert.notEqual(refused.status, 101);
  assert.equal(backend.connections.length, 0);
  assert.ok(backend.handshakes.every((h) => !h.upgrade), 'the backend never saw an upgrade request');
});
