import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { startBlackholePort } from '../helpers/blackhole-port.js';
import { deadPort } from '../helpers/dead-port.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startMockWsBackend, type MockWsBackend } from '../helpers/mock-ws-backend.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { expectRefused, sessionLog, wsUrl } from '../helpers/ws-client.js';

let backend: MockWsBackend;
let relay: RunningRelay;

before(async () => {
  backend = await startMockWsBackend();
  relay = await startRelay({ backend: { base_url: backend.url, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await relay.close();
  await backend.close();
});

interface ErrorShape {
  error: { message: string; type: string; code: string; param: null };
}

test('a backend refusing the upgrade with 401 gives the client that status, headers and body', { timeout: 10_000 }, async () => {
  const body = JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key', param: null } });
  backend.refuse({ status: 401, body, headers: { 'x-backend-note': 'refused', 'x-request-id': 'req_backend_1' } });
  try {
    const refused = await expectRefused(wsUrl(relay, '/v1/realtime?model=m'), [], { headers: { 'x-request-id': 'ws-refused-1' } });
    assert.equal(refused.status, 401);
    assert.equal(refused.body, body);
    assert.equal(refused.headers['x-backend-note'], 'refused');
    assert.equal(refused.headers['x-request-id'], 'ws-refused-1');
    assert.equal(refused.headers['x-upstream-request-id'], 'req_backend_1');
    assert.equal(backend.handshakes.at(-1)?.upgrade, true, 'the handshake did reach the backend');
    const log = await sessionLog(relay, 'ws-refused-1');
    assert.equal(log.status, 401);
  } finally {
    backend.refuse(undefined);
  }
});

test('a backend redirect is passed back to the client, never followed', { timeout: 10_000 }, async () => {
  backend.refuse({ status: 307, body: '', headers: { location: 'ws://127.0.0.1:1/elsewhere' } });
  try {
    const before = backend.handshakes.length;
    const refused = await expectRefused(wsUrl(relay, '/v1/realtime?model=m'));
    assert.equal(refused.status, 307);
    assert.equal(refused.headers.location, 'ws://127.0.0.1:1/elsewhere');
    assert.equal(backend.handshakes.length, before + 1);
  } finally {
    backend.refuse(undefined);
  }
});

test('an unreachable backend answers the handshake with 502 in OpenAI error shape', { timeout: 10_000 }, async () => {
  const down = await startRelay({ backend: { base_url: `http://127.0.0.1:${await deadPort()}`, api_key: 'sk-backend-secret' } });
  try {
    const refused = await expectRefused(wsUrl(down, '/v1/realtime?model=m'));
    assert.equal(refused.status, 502);
    const body = JSON.parse(refused.body) as ErrorShape;
    assert.equal(body.error.code, 'upstream_unreachable');
    assert.equal(body.error.type, 'api_error');
    assert.equal(refused.headers['content-type'], 'application/json');
    assert.ok(!refused.body.includes('sk-backend-secret'));
  } finally {
    await down.close();
  }
});

test('a backend that accepts TCP but never answers the handshake gives 504 after request.connect_timeout', { timeout: 10_000 }, async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => sockets.add(s));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const slow = await startRelay({
    backend: { base_url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, api_key: 'sk-b' },
    request: { connect_timeout: 0.3 },
  });
  try {
    const start = performance.now();
    const refused = await expectRefused(wsUrl(slow, '/v1/realtime?model=m'));
    const took = performance.now() - start;
    assert.equal(refused.status, 504);
    assert.equal((JSON.parse(refused.body) as ErrorShape).error.code, 'upstream_connect_timeout');
    assert.ok(took >= 250 && took < 3000, `answered after ${took.toFixed(0)} ms`);
  } finally {
    await slow.close();
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('a backend whose TCP connect hangs gives 504 after request.connect_timeout', { timeout: 15_000 }, async () => {
  const hole = await startBlackholePort();
  const slow = await startRelay({ backend: { base_url: `http://127.0.0.1:${hole.port}`, api_key: 'sk-b' }, request: { connect_timeout: 0.3 } });
  try {
    const refused = await expectRefused(wsUrl(slow, '/v1/realtime?model=m'));
    assert.equal(refused.status, 504);
    assert.equal((JSON.parse(refused.body) as ErrorShape).error.code, 'upstream_connect_timeout');
  } finally {
    await slow.close();
    hole.close();
  }
});

/** A raw WebSocket handshake: ws and the WHATWG URL parser would normalize the dot segments away. */
const handshake = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

test('a path that would leave base_url is refused with 400 before anything is opened upstream', { timeout: 10_000 }, async () => {
  const before = backend.handshakes.length;
  for (const path of ['/v1/../admin', '/v1/%2e%2e/admin', '/v1/realtime/..%2F..%2Fx', 'http://evil.example/v1/realtime']) {
    const res = await rawRequest(relay.port, handshake(path));
    assert.equal(res.status, 400, path);
    assert.equal((JSON.parse(res.body) as ErrorShape).error.code, 'invalid_path', path);
  }
  assert.equal(backend.handshakes.length, before);
});

test('a handshake without a valid Sec-WebSocket-Key is refused with 400', { timeout: 10_000 }, async () => {
  const before = backend.handshakes.length;
  const res = await rawRequest(relay.port, handshake('/v1/realtime').replace('dGhlIHNhbXBsZSBub25jZQ==', 'short'));
  assert.equal(res.status, 400);
  assert.equal((JSON.parse(res.body) as ErrorShape).error.type, 'invalid_request_error');
  assert.equal(backend.handshakes.length, before);
});

test('a malformed subprotocol list is refused with 400', { timeout: 10_000 }, async () => {
  const before = backend.handshakes.length;
  const refused = await expectRefused(wsUrl(relay, '/v1/realtime?model=m'), [], { headers: { 'sec-websocket-protocol': 'realtime, realtime' } });
  assert.equal(refused.status, 400);
  assert.equal(backend.handshakes.length, before);
});
