import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { openWs, sessionLog, wsUrl } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let mapping: RunningRelay;
let forcing: RunningRelay;
let versioned: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  mapping = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' }, model: { mapping: { 'my-voice': 'gpt-realtime' } } });
  forcing = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' }, model: { override: 'gpt-realtime-mini' } });
  versioned = await startRelay({ backend: { base_url: `${backend.url}/openai/v1`, api_key: 'sk-b' } });
});
after(async () => {
  await Promise.all([mapping.close(), forcing.close(), versioned.close()]);
  await backend.close();
});

/** Opens a session, sends `frames` as text, returns what the backend received and closes. */
async function through(relay: RunningRelay, path: string, frames: readonly string[] = []): Promise<{ url: string; received: string[]; requestId: string }> {
  const client = await openWs(wsUrl(relay, path));
  const conn = await backend.nextConnection();
  for (const f of frames) client.ws.send(f);
  const received: string[] = [];
  for (let i = 0; i < frames.length; i++) received.push((await conn.nextMessage()).data.toString());
  client.ws.close();
  await conn.closed;
  return { url: conn.handshake.url, received, requestId: String(conn.handshake.headers['x-request-id']) };
}

test('maps the model query parameter and keeps every other byte of the query', { timeout: 10_000 }, async () => {
  const { url, requestId } = await through(mapping, '/v1/realtime?foo=a%20b&model=my-voice&x=1&empty=');
  assert.equal(url, '/v1/realtime?foo=a%20b&model=gpt-realtime&x=1&empty=');
  const log = await sessionLog(mapping, requestId);
  assert.equal(log.model, 'my-voice');
  assert.equal(log.model_sent, 'gpt-realtime');
});

test('an unmapped model and a query without model pass unchanged', { timeout: 10_000 }, async () => {
  assert.equal((await through(mapping, '/v1/realtime?model=gpt-4o-realtime-preview&x=%2F')).url, '/v1/realtime?model=gpt-4o-realtime-preview&x=%2F');
  assert.equal((await through(mapping, '/v1/realtime?call_id=rtc_123')).url, '/v1/realtime?call_id=rtc_123');
});

test('model.override forces the query model, and the path works without the /v1 prefix', { timeout: 10_000 }, async () => {
  assert.equal((await through(forcing, '/realtime?model=gpt-realtime')).url, '/v1/realtime?model=gpt-realtime-mini');
});

test('a base_url ending in /v1 is not doubled and keeps its path prefix', { timeout: 10_000 }, async () => {
  assert.equal((await through(versioned, '/v1/realtime?model=m')).url, '/openai/v1/realtime?model=m');
});

test('session.update has its model mapped with every other byte kept; other frames pass untouched', { timeout: 10_000 }, async () => {
  const update = '{ "event_id":"e1",\n "type" : "session.update", "session": {"type":"realtime", "model" : "my-voice", "instructions":"caf\\u00e9", "x":1.50}, "z":[] }';
  const other = '{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"session.update my-voice"}]},"model":"my-voice"}';
  const noModel = '{"type":"session.update","session":{"instructions":"hi"}}';
  const notJson = '"session.update" {model: my-voice';
  const { received, requestId } = await through(mapping, '/v1/realtime?model=gpt-realtime', [update, other, noModel, notJson]);
  assert.equal(received[0], update.replace('"my-voice"', '"gpt-realtime"'));
  assert.equal(received[1], other);
  assert.equal(received[2], noModel);
  assert.equal(received[3], notJson);
  const log = await sessionLog(mapping, requestId);
  assert.equal(log.model_sent, 'gpt-realtime');
  assert.equal(log.frames_in, 4);
});

test('model.override also rewrites session.update, even when its type is spelled with an escape', { timeout: 10_000 }, async () => {
  const plain = '{"type":"session.update","session":{"model":"gpt-realtime"}}';
  const escaped = '{"type":"session\\u002eupdate","session":{"model":"gpt-realtime","voice":"alloy"}}';
  const { received } = await through(forcing, '/v1/realtime?model=x', [plain, escaped]);
  assert.equal(received[0], '{"type":"session.update","session":{"model":"gpt-realtime-mini"}}');
  assert.equal(received[1], '{"type":"session\\u002eupdate","session":{"model":"gpt-realtime-mini","voice":"alloy"}}');
});

test('a binary frame that looks like a session.update is never rewritten', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(mapping, '/v1/realtime?model=m'));
  const conn = await backend.nextConnection();
  const bytes = Buffer.from('{"type":"session.update","session":{"model":"my-voice"}}');
  client.ws.send(bytes, { binary: true });
  const got = await conn.nextMessage();
  assert.equal(got.isBinary, true);
  assert.deepEqual(got.data, bytes);
  client.ws.close();
  await conn.closed;
});
