import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { expectRefused, openWs, plainConnection, sessionLog, wsUrl } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let guarded: RunningRelay;
let guardedPassThrough: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  guarded = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-backend-secret' }, auth: { keys: ['relay-key-1', 'relay-key-2'] } });
  guardedPassThrough = await startRelay({ backend: { base_url: backend.url, api_key: '' }, auth: { keys: ['relay-key-1'] } });
});
after(async () => {
  await Promise.all([guarded.close(), guardedPassThrough.close()]);
  await backend.close();
});

test('a handshake without a relay access key gets 401 in OpenAI shape and never reaches the backend', { timeout: 10_000 }, async () => {
  const before = backend.handshakes.length;
  const attempts: { protocols: string[]; headers: Record<string, string> }[] = [
    { protocols: [], headers: {} },
    { protocols: [], headers: { authorization: 'Bearer wrong-key' } },
    { protocols: ['realtime', 'openai-insecure-api-key.wrong-key'], headers: {} },
  ];
  for (const attempt of attempts) {
    const refused = await expectRefused(wsUrl(guarded, '/v1/realtime?model=m'), attempt.protocols, { headers: attempt.headers });
    assert.equal(refused.status, 401);
    const body = JSON.parse(refused.body) as { error: { code: string; type: string } };
    assert.equal(body.error.code, 'invalid_api_key');
    assert.equal(body.error.type, 'authentication_error');
  }
  assert.equal(backend.handshakes.length, before, 'nothing was opened upstream');
});

test('the openai SDK realtime client is let in with a relay key as its apiKey', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'relay-key-2', baseURL: guarded.baseURL, maxRetries: 0 });
  const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { createConnection: plainConnection } }, client);
  rt.on('error', () => undefined);
  const conn = await backend.nextConnection();
  assert.equal(conn.handshake.headers.authorization, 'Bearer sk-backend-secret');
  const log = await new Promise<Record<string, unknown>>((resolve) => {
    rt.socket.once('close', () => resolve(sessionLog(guarded, String(conn.handshake.headers['x-request-id']))));
    rt.close();
  });
  assert.match(String(log.access_key), /.+/);
  assert.ok(!JSON.stringify(log).includes('relay-key-2'));
});

test('a browser client may present the relay key as a subprotocol; that entry goes no further', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(guardedPassThrough, '/v1/realtime?model=m'), ['realtime', 'openai-insecure-api-key.relay-key-1', 'openai-insecure-api-key.sk-openai-user']);
  const conn = await backend.nextConnection();
  // Pass-through mode: the user's own OpenAI key travels, the relay key does not.
  assert.deepEqual(conn.handshake.protocols, ['realtime', 'openai-insecure-api-key.sk-openai-user']);
  assert.equal(conn.handshake.headers.authorization, undefined);
  client.ws.close();
  await conn.closed;
});

test('a relay key in x-api-key is accepted and not forwarded, while the client\'s own Authorization passes through', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(guardedPassThrough, '/v1/realtime?model=m'), [], {
    headers: { 'x-api-key': 'relay-key-1', authorization: 'Bearer sk-openai-user' },
  });
  const conn = await backend.nextConnection();
  assert.equal(conn.handshake.headers['x-api-key'], undefined);
  assert.equal(conn.handshake.headers.authorization, 'Bearer sk-openai-user');
  client.ws.close();
  await conn.closed;
});
