import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { openWs, wsUrl } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let hiding: RunningRelay;
let passing: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  hiding = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-backend-secret' } });
  passing = await startRelay({ backend: { base_url: backend.url, api_key: '' } });
});
after(async () => {
  await hiding.close();
  await passing.close();
  await backend.close();
});

test('with a backend key the handshake carries only it: client keys in headers and in the subprotocol are removed, other subprotocols kept', { timeout: 10_000 }, async () => {
  const client = await openWs(
    wsUrl(hiding, '/v1/realtime?model=gpt-realtime'),
    ['realtime', 'openai-insecure-api-key.sk-client-proto', 'openai-beta.realtime-v1'],
    { headers: { authorization: 'Bearer sk-client-header', 'api-key': 'sk-client-azure', 'x-api-key': 'sk-client-x', 'openai-beta': 'realtime=v1', 'x-custom': 'kept' } },
  );
  const conn = await backend.nextConnection();
  const hs = conn.handshake;
  assert.equal(hs.headers.authorization, 'Bearer sk-backend-secret');
  assert.equal(hs.headers['api-key'], undefined);
  assert.equal(hs.headers['x-api-key'], undefined);
  assert.deepEqual(hs.protocols, ['realtime', 'openai-beta.realtime-v1']);
  assert.equal(hs.headers['openai-beta'], 'realtime=v1');
  assert.equal(hs.headers['x-custom'], 'kept');
  assert.ok(!hs.rawHeaders.some((v) => v.includes('sk-client')), 'no client key anywhere in the upstream handshake');
  assert.equal(client.ws.protocol, 'realtime', 'the client gets the subprotocol the backend chose');
  client.ws.send('hello');
  assert.equal((await client.nextMessage()).data.toString(), 'hello');
  client.ws.close();
  await conn.closed;
});

test('a browser-style client that sends its key only as a subprotocol gets the backend key injected', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(hiding, '/v1/realtime?model=gpt-realtime'), ['realtime', 'openai-insecure-api-key.sk-browser']);
  const conn = await backend.nextConnection();
  assert.equal(conn.handshake.headers.authorization, 'Bearer sk-backend-secret');
  assert.deepEqual(conn.handshake.protocols, ['realtime']);
  assert.equal(client.ws.protocol, 'realtime');
  client.ws.close();
  await conn.closed;
});

test('without a backend key the client credentials pass through unchanged, header and subprotocol', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(passing, '/v1/realtime?model=gpt-realtime'), ['realtime', 'openai-insecure-api-key.sk-client-proto'], {
    headers: { authorization: 'Bearer sk-client-header' },
  });
  const conn = await backend.nextConnection();
  assert.equal(conn.handshake.headers.authorization, 'Bearer sk-client-header');
  assert.deepEqual(conn.handshake.protocols, ['realtime', 'openai-insecure-api-key.sk-client-proto']);
  client.ws.close();
  await conn.closed;
});

test('hop-by-hop and client-identity headers are not sent upstream, and the request id is', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(hiding, '/v1/realtime?model=m'), [], {
    headers: { 'x-forwarded-for': '10.0.0.1', 'cf-connecting-ip': '10.0.0.2', 'keep-alive': 'timeout=5', 'x-request-id': 'req-ws-123' },
  });
  const conn = await backend.nextConnection();
  const hs = conn.handshake;
  assert.equal(hs.headers['x-forwarded-for'], undefined);
  assert.equal(hs.headers['cf-connecting-ip'], undefined);
  assert.equal(hs.headers['keep-alive'], undefined);
  assert.equal(hs.headers['x-request-id'], 'req-ws-123');
  assert.equal(hs.headers.upgrade, 'websocket');
  assert.equal(client.responseHeaders['x-request-id'], 'req-ws-123', 'the 101 carries the request id');
  client.ws.close();
  await conn.closed;
});

test('no key, the backend\'s or a client\'s, appears in any log line of these sessions', { timeout: 10_000 }, async () => {
  const text = JSON.stringify([...hiding.logs, ...passing.logs]);
  assert.match(text, /"msg":"websocket"/);
  for (const key of ['sk-backend-secret', 'sk-client-header', 'sk-client-proto', 'sk-client-azure', 'sk-client-x', 'sk-browser']) {
    assert.ok(!text.includes(key), `${key} leaked into the logs`);
  }
});
