import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { openWs, wsUrl } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' }, model: { mapping: { alias: 'gpt-realtime' } } });
});
after(async () => {
  await relay.close();
  await backend.close();
});

test('200 concurrent sessions each get their own backend connection and only their own frames', { timeout: 30_000 }, async () => {
  const N = 200;
  const clients = await Promise.all(Array.from({ length: N }, (_, i) => openWs(wsUrl(relay, `/v1/realtime?model=alias&session=${i}`), [], { headers: { 'x-request-id': `ws-concurrent-${i}` } })));
  assert.equal(backend.connections.length, N);
  assert.equal(relay.relay.context.state.inflight, N);

  await Promise.all(
    clients.map(async (c, i) => {
      for (let k = 0; k < 3; k++) c.ws.send(JSON.stringify({ type: 'session.update', session: { model: 'alias', tag: `${i}-${k}` } }));
      for (let k = 0; k < 3; k++) {
        // The echo went through the backend: the model was mapped on the way in.
        assert.equal((await c.nextMessage()).data.toString(), JSON.stringify({ type: 'session.update', session: { model: 'gpt-realtime', tag: `${i}-${k}` } }));
      }
    }),
  );
  for (const conn of backend.connections) {
    const i = Number(conn.handshake.query.get('session'));
    assert.equal(conn.handshake.headers['x-request-id'], `ws-concurrent-${i}`, 'each backend connection belongs to its client');
    assert.equal(conn.handshake.query.get('model'), 'gpt-realtime');
    assert.equal(conn.messages.length, 3);
  }

  await Promise.all(clients.map(async (c) => {
    c.ws.close(1000);
    await c.closed;
  }));
  await Promise.all(backend.connections.map((c) => c.closed));
  const deadline = Date.now() + 5000;
  while (relay.relay.context.state.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(relay.relay.context.state.inflight, 0, 'every session ended');
  assert.equal(relay.logs.filter((l) => l.msg === 'websocket' && String(l.request_id).startsWith('ws-concurrent-')).length, N);
});
