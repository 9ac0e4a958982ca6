import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { openWs, sessionLog, wsUrl } from '../helpers/ws-client.js';

/** A WebSocket session is routed like an HTTP request: by the `model` query, with the backend's own key, name and query. */

let openai: MockWsBackend;
let azure: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  openai = await startMockWsBackend();
  azure = await startMockWsBackend();
  relay = await startRelay({
    backends: [
      { name: 'openai', base_url: openai.url, api_key: 'sk-openai', models: ['gpt-realtime*'] },
      {
        name: 'azure',
        base_url: azure.url,
        api_key: 'az-key',
        key_header: 'api-key',
        models: ['voice-*'],
        mapping: { 'voice-1': 'my-deployment' },
        query: { 'api-version': '2025-04-01-preview' },
      },
    ],
  });
});
after(async () => {
  await relay.close();
  await Promise.all([openai.close(), azure.close()]);
});

async function open(backend: MockWsBackend, path: string): Promise<{ url: string; headers: Record<string, unknown>; requestId: string }> {
  const client = await openWs(wsUrl(relay, path), [], { headers: { authorization: 'Bearer sk-client' } });
  const conn = await backend.nextConnection();
  client.ws.close();
  await conn.closed;
  const headers = conn.handshake.headers as Record<string, unknown>;
  return { url: conn.handshake.url, headers, requestId: String(headers['x-request-id']) };
}

test('the model query picks the backend; its key replaces the client one', { timeout: 10_000 }, async () => {
  const { url, headers, requestId } = await open(openai, '/v1/realtime?model=gpt-realtime-mini');
  assert.equal(url, '/v1/realtime?model=gpt-realtime-mini');
  assert.equal(headers.authorization, 'Bearer sk-openai');
  const log = await sessionLog(relay, requestId);
  assert.equal(log.backend, 'openai');
});

test('a backend with its own mapping, key header and query gets all three', { timeout: 10_000 }, async () => {
  const { url, headers, requestId } = await open(azure, '/v1/realtime?model=voice-1');
  assert.equal(url, '/v1/realtime?model=my-deployment&api-version=2025-04-01-preview');
  assert.equal(headers['api-key'], 'az-key');
  assert.equal(headers.authorization, undefined, 'the client key does not travel');
  const log = await sessionLog(relay, requestId);
  assert.equal(log.backend, 'azure');
  assert.equal(log.model, 'voice-1');
  assert.equal(log.model_sent, 'my-deployment');
});

test('a model no backend serves is refused with 404 before anything opens upstream', { timeout: 10_000 }, async () => {
  const before = openai.connections.length + azure.connections.length;
  await assert.rejects(openWs(wsUrl(relay, '/v1/realtime?model=unknown-model')), /unexpected response 404/);
  assert.equal(openai.connections.length + azure.connections.length, before, 'no backend was reached');
});
