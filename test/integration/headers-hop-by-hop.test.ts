import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) concern one connection only: the client's never reach the
 * backend, the backend's never reach the client, nor does any header a Connection field names.
 */

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      connection: 'keep-alive, X-Upstream-Hop',
      'keep-alive': 'timeout=5, max=100',
      'x-upstream-hop': 'upstream-secret',
      'proxy-authenticate': 'Basic realm="upstream"',
      upgrade: 'h2c',
      trailer: 'x-checksum',
      'x-upstream-end-to-end': 'kept',
    });
    res.addTrailers({ 'x-checksum': 'abc' });
    res.end('{"ok":true}');
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: '' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const HOP_BY_HOP_REQUEST = [
  'Connection: close, X-Foo',
  'Keep-Alive: timeout=5',
  'TE: trailers',
  'Trailer: x-checksum',
  'Upgrade: h2c',
  'Proxy-Authorization: Basic dXNlcjpwYXNz',
  'Proxy-Connection: keep-alive',
  'X-Foo: named-in-connection',
];

test('the client hop-by-hop headers and the header named in Connection are not forwarded upstream', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const request =
    `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n` +
    `${HOP_BY_HOP_REQUEST.map((h) => `${h}\r\n`).join('')}X-Custom: end-to-end\r\n\r\n{}`;
  const res = await rawRequest(relay.port, request);
  assert.equal(res.status, 200, res.raw);
  assert.equal(upstream.requests.length, before + 1);
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  for (const name of ['keep-alive', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-connection', 'x-foo']) {
    assert.ok(!names.includes(name), `${name} must not reach the backend; it got ${JSON.stringify(seen.rawHeaders)}`);
  }
  assert.doesNotMatch(String(seen.headers.connection ?? ''), /x-foo|close/i, 'the client Connection header is not forwarded');
  assert.equal(seen.headers['x-custom'], 'end-to-end');
  assert.equal(seen.body.toString(), '{}');
});

test('Host upstream is the backend host:port, whatever Host the client sent', { timeout: 10_000 }, async () => {
  const res = await rawRequest(relay.port, 'GET /v1/models HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
  assert.equal(res.status, 200, res.raw);
  const seen = upstream.requests.at(-1);
  assert.equal(seen?.headers.host, `127.0.0.1:${upstream.port}`);
  assert.equal(seen?.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => n.toLowerCase() === 'host').length, 1, 'exactly one Host header');
});

test('the backend hop-by-hop headers and the header its Connection names do not reach the client; end-to-end ones do', { timeout: 10_000 }, async () => {
  // the backend really sends them (asked directly)
  const direct = await rawRequest(upstream.port, `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${upstream.port}\r\nConnection: close\r\n\r\n`);
  for (const name of ['keep-alive', 'x-upstream-hop', 'proxy-authenticate', 'upgrade', 'trailer']) assert.ok(direct.headers[name], `the mock sends ${name}`);

  const res = await rawRequest(relay.port, `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nConnection: close\r\n\r\n`);
  assert.equal(res.status, 200, res.raw);
  for (const name of ['keep-alive', 'x-upstream-hop', 'proxy-authenticate', 'upgrade', 'trailer', 'x-checksum']) {
    assert.equal(res.headers[name], undefined, `${name} must not reach the client: ${res.raw}`);
  }
  assert.doesNotMatch((res.headers.connection ?? []).join(','), /x-upstream-hop/i);
  assert.doesNotMatch(res.raw, /upstream-secret/);
  assert.deepEqual(res.headers['x-upstream-end-to-end'], ['kept']);
  assert.equal(res.body, '{"ok":true}');
});
