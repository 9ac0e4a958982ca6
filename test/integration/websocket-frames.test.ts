import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { openWs, sessionLog, wsUrl } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-b' }, model: { mapping: { a: 'b' } } });
});
after(async () => {
  await relay.close();
  await backend.close();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('text and binary frames arrive byte-identical, with their type, in both directions', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(relay, '/v1/realtime?model=a'));
  const conn = await backend.nextConnection();
  const text = Buffer.from('{"type":"input_text","text":"héllo 世界 🎧","n":1.0e2}');
  const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3]), randomBytes(4096)]);
  client.ws.send(text, { binary: false });
  client.ws.send(binary, { binary: true });
  client.ws.send(Buffer.alloc(0), { binary: true });

  const atBackend = [await conn.nextMessage(), await conn.nextMessage(), await conn.nextMessage()];
  assert.deepEqual(atBackend.map((m) => m.isBinary), [false, true, true]);
  assert.deepEqual(atBackend[0]?.data, text);
  assert.deepEqual(atBackend[1]?.data, binary);
  assert.equal(atBackend[2]?.data.length, 0);

  // The mock echoes: the same bytes come back through the relay to the client.
  const atClient = [await client.nextMessage(), await client.nextMessage(), await client.nextMessage()];
  assert.deepEqual(atClient.map((m) => m.isBinary), [false, true, true]);
  assert.deepEqual(atClient[0]?.data, text);
  assert.deepEqual(atClient[1]?.data, binary);

  const requestId = String(conn.handshake.headers['x-request-id']);
  client.ws.close();
  await conn.closed;
  const log = await sessionLog(relay, requestId);
  assert.equal(log.frames_in, 3);
  assert.equal(log.frames_out, 3);
  assert.equal(log.bytes_in, text.length + binary.length);
  assert.equal(log.bytes_out, text.length + binary.length);
});

test('a fragmented message reaches the other side whole', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(relay, '/v1/realtime?model=a'));
  const conn = await backend.nextConnection();
  client.ws.send('{"type":"input_audio_buffer', { fin: false });
  client.ws.send('.append","audio":"AAAA', { fin: false });
  client.ws.send('"}', { fin: true });
  const got = await conn.nextMessage();
  assert.equal(got.isBinary, false);
  assert.equal(got.data.toString(), '{"type":"input_audio_buffer.append","audio":"AAAA"}');
  client.ws.close();
  await conn.closed;
});

test('pings and pongs are forwarded end to end with their payload', { timeout: 10_000 }, async () => {
  const client = await openWs(wsUrl(relay, '/v1/realtime?model=a'));
  const conn = await backend.nextConnection();

  const backendPing = once(conn.ws, 'ping');
  const clientPong = once(client.ws, 'pong');
  client.ws.ping(Buffer.from('are-you-there'));
  assert.equal(String((await backendPing)[0]), 'are-you-there');
  assert.equal(String((await clientPong)[0]), 'are-you-there', 'the backend\'s pong came back through the relay');

  const clientPing = once(client.ws, 'ping');
  const backendPong = once(conn.ws, 'pong');
  conn.ws.ping(Buffer.from('server-ping'));
  assert.equal(String((await clientPing)[0]), 'server-ping');
  assert.equal(String((await backendPong)[0]), 'server-ping');
  client.ws.close();
  await conn.closed;
});

test('a 5 MB binary audio frame passes intact both ways', { timeout: 20_000 }, async () => {
  const client = await openWs(wsUrl(relay, '/v1/realtime?model=a'));
  const conn = await backend.nextConnection();
  const audio = randomBytes(5 * 1024 * 1024);
  client.ws.send(audio, { binary: true });
  const atBackend = await conn.nextMessage();
  assert.equal(atBackend.data.length, audio.length);
  assert.equal(sha(atBackend.data), sha(audio));
  const atClient = await client.nextMessage();
  assert.equal(atClient.isBinary, true);
  assert.equal(sha(atClient.data), sha(audio));
  client.ws.close();
  await conn.closed;
});
