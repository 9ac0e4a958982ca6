import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { RawData } from 'ws';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { plainConnection, sessionLog } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  // A realtime-like backend: session.created on connect, session.updated echoing the model it got.
  backend = await startMockWsBackend((conn) => {
    conn.ws.send(JSON.stringify({ type: 'session.created', event_id: 'evt_1', session: { type: 'realtime', model: conn.handshake.query.get('model') } }));
    conn.ws.on('message', (data: RawData) => {
      const event = JSON.parse(String(data)) as { type: string; session?: { model?: string } };
      if (event.type === 'session.update') conn.ws.send(JSON.stringify({ type: 'session.updated', event_id: 'evt_2', session: { type: 'realtime', model: event.session?.model } }));
    });
  });
  relay = await startRelay({
    backend: { base_url: backend.url, api_key: 'sk-backend-secret' },
    model: { mapping: { 'my-voice': 'gpt-realtime' } },
  });
});
after(async () => {
  await relay.close();
  await backend.close();
});

test('the openai SDK realtime client talks through the relay: key injected, model mapped in the query and in session.update', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client-key', baseURL: relay.baseURL, maxRetries: 0 });
  const rt = new OpenAIRealtimeWS({ model: 'my-voice', options: { createConnection: plainConnection } }, client);
  const errors: unknown[] = [];
  rt.on('error', (err) => errors.push(err));

  const created = await rt.emitted('session.created');
  assert.equal('model' in created.session ? created.session.model : undefined, 'gpt-realtime', 'the backend saw the mapped model in the query');

  const conn = backend.connections.at(-1);
  assert.ok(conn);
  const hs = conn.handshake;
  assert.equal(hs.path, '/v1/realtime');
  assert.equal(hs.query.get('model'), 'gpt-realtime');
  assert.equal(hs.headers.authorization, 'Bearer sk-backend-secret');
  assert.ok(!hs.rawHeaders.some((v) => v.includes('sk-client-key')), 'the client key never reaches the backend');
  assert.equal(hs.headers.host, `127.0.0.1:${backend.port}`);

  const update = { type: 'session.update', session: { type: 'realtime', model: 'my-voice', instructions: 'Be brief.' } } as const;
  rt.send(update);
  const updated = await rt.emitted('session.updated');
  assert.equal('model' in updated.session ? updated.session.model : undefined, 'gpt-realtime');
  const sent = conn.messages.find((m) => m.data.includes('session.update'));
  assert.ok(sent);
  assert.equal(sent.isBinary, false);
  assert.equal(sent.data.toString(), JSON.stringify(update).replace('"my-voice"', '"gpt-realtime"'), 'only the model bytes changed');

  const requestId = String(hs.headers['x-request-id']);
  rt.close({ code: 1000, reason: 'done' });
  assert.deepEqual(await conn.closed, { code: 1000, reason: 'done' });
  const log = await sessionLog(relay, requestId);
  assert.equal(log.status, 101);
  assert.equal(log.path, '/realtime');
  assert.equal(log.model, 'my-voice');
  assert.equal(log.model_sent, 'gpt-realtime');
  assert.equal(log.model_rewritten, true);
  assert.equal(log.frames_in, 1);
  assert.equal(log.frames_out, 2);
  assert.equal(log.close_code, 1000);
  assert.equal(log.closed_by, 'client');
  assert.equal(typeof log.duration_ms, 'number');
  assert.deepEqual(errors, []);
});
