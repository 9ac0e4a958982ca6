import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { spawnRelay, writeConfig } from '../helpers/spawn-relay.js';
import { startRelay } from '../helpers/start-relay.js';
import { openWs } from '../helpers/ws-client.js';

let backend: MockWsBackend;

before(async () => {
  backend = await startMockWsBackend();
});
after(async () => {
  await backend.close();
});

test('on shutdown an open session keeps relaying through the grace period, then both sides are closed with 1001', { timeout: 10_000 }, async () => {
  const relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' } });
  const client = await openWs(`ws://127.0.0.1:${relay.port}/v1/realtime?model=m`);
  const conn = await backend.nextConnection();
  const start = performance.now();
  const stopped = relay.relay.shutdown(500);
  client.ws.send('still here');
  assert.equal((await client.nextMessage()).data.toString(), 'still here', 'the session works during the grace');
  const [atClient, atBackend] = await Promise.all([client.closed, conn.closed]);
  assert.deepEqual(atClient, { code: 1001, reason: 'relay shutting down' });
  assert.deepEqual(atBackend, { code: 1001, reason: 'relay shutting down' });
  await stopped;
  const took = performance.now() - start;
  assert.ok(took >= 450 && took < 3000, `stopped after ${took.toFixed(0)} ms`);
});

test('a session that ends during the grace period lets shutdown finish at once', { timeout: 10_000 }, async () => {
  const relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' } });
  const client = await openWs(`ws://127.0.0.1:${relay.port}/v1/realtime?model=m`);
  const conn = await backend.nextConnection();
  const start = performance.now();
  const stopped = relay.relay.shutdown(5000);
  client.ws.close(1000, 'done');
  assert.equal((await conn.closed).code, 1000);
  await stopped;
  assert.ok(performance.now() - start < 2000, 'did not wait for the whole grace');
  assert.equal(relay.relay.context.state.inflight, 0);
});

test('SIGTERM closes open sessions with 1001 after the grace and the process exits 0', { timeout: 20_000 }, async () => {
  const file = writeConfig(`server: {host: 127.0.0.1, port: 0, shutdown_grace: 0.3}\nbackend: {base_url: "${backend.url}", api_key: sk-b}\n`);
  const relay = await spawnRelay(['-c', file]);
  try {
    const client = await openWs(`ws://127.0.0.1:${relay.port}/v1/realtime?model=m`);
    const conn = await backend.nextConnection();
    client.ws.send('hello');
    await client.nextMessage();
    relay.proc.kill('SIGTERM');
    assert.equal((await client.closed).code, 1001);
    assert.equal((await conn.closed).code, 1001);
    assert.equal(await relay.exited, 0);
    assert.match(relay.stdout(), /"msg":"websocket"/);
  } finally {
    relay.proc.kill('SIGKILL');
  }
});
