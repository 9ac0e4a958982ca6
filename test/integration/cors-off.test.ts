import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest, requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** server.cors: false: the relay adds no CORS header anywhere, and still never forwards a preflight. */

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { ok: true }));
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' }, server: { cors: false } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

function corsHeaders(headers: Record<string, string[]>): string[] {
  return Object.keys(headers).filter((n) => n.startsWith('access-control-'));
}

test('relayed responses carry no CORS headers', { timeout: 10_000 }, async () => {
  const res = await rawRequest(relay.port, `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n`);
  assert.equal(res.status, 200, res.raw);
  assert.deepEqual(corsHeaders(res.headers), []);
  assert.equal(res.body, '{"ok":true}');
});

test('relay-made responses (/health and a 400) carry no CORS headers', { timeout: 10_000 }, async () => {
  const health = await rawRequest(relay.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n`);
  assert.equal(health.status, 200);
  assert.deepEqual(corsHeaders(health.headers), []);
  const bad = await rawRequest(relay.port, `GET /v1/../admin HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n`);
  assert.equal(bad.status, 400);
  assert.deepEqual(corsHeaders(bad.headers), []);
});

test('a preflight gets no CORS grant and is not forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await rawRequest(
    relay.port,
    `OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization\r\nConnection: close\r\n\r\n`,
  );
  assert.ok(res.status >= 200 && res.status < 500, `answered by the relay: ${res.raw}`);
  assert.deepEqual(corsHeaders(res.headers), []);
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before }), []);
});

test('a plain OPTIONS without Access-Control-Request-Method is forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/models`, { method: 'OPTIONS' });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.equal(upstream.requests.length, before + 1);
  assert.equal(upstream.requests.at(-1)?.method, 'OPTIONS');
});
