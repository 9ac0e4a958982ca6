import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { openSocket, readResponse, requestsBesidesSentinel, toOpenAIError } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** Slow-loris clients are cut off by server.headers_timeout (headers) and server.request_timeout (whole request). */

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { ok: true }));
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: 'sk-backend-secret' },
    server: { headers_timeout: 0.5, request_timeout: 1 },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('a client sending its headers byte by byte slower than headers_timeout is cut off (408 or closed) and nothing reaches the backend', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const request = `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nAuthorization: Bearer sk-client\r\nX-Padding: ${'a'.repeat(40)}\r\n\r\n`;
  const socket = await openSocket(relay.port);
  socket.on('error', () => undefined);
  const answer = readResponse(socket, { timeoutMs: 6000 });
  const start = performance.now();
  let sent = 0;
  // one byte every 100 ms: the whole head would take more than 10 s
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable || sent >= request.length) return;
    socket.write(request[sent++] as string);
  }, 100);
  try {
    const res = await answer;
    const elapsed = performance.now() - start;
    assert.ok(sent < request.length, `cut off before the head was complete (sent ${sent} of ${request.length} bytes)`);
    assert.ok(elapsed >= 400, `not cut off before headers_timeout (${elapsed.toFixed(0)} ms)`);
    assert.ok(elapsed < 3000, `cut off soon after headers_timeout (${elapsed.toFixed(0)} ms)`);
    assert.ok(res.status === 408 || (res.status === 0 && res.closed), `408 or closed, got ${res.raw}`);
    if (res.status === 408) assert.equal(toOpenAIError(res.body).type, 'invalid_request_error');
  } finally {
    clearInterval(timer);
    socket.destroy();
  }
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before }), []);
});

test('a client that sends its headers and then stalls the body past request_timeout is cut off, and the backend never gets a complete request', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const socket = await openSocket(relay.port);
  socket.on('error', () => undefined);
  const answer = readResponse(socket, { timeoutMs: 6000 });
  const start = performance.now();
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":"gpt-4o",`,
  );
  try {
    const res = await answer;
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 900, `not cut off before request_timeout (${elapsed.toFixed(0)} ms)`);
    assert.ok(elapsed < 4000, `cut off soon after request_timeout (${elapsed.toFixed(0)} ms)`);
    assert.equal(res.status, 408, `408, got ${res.raw}`);
    assert.equal(toOpenAIError(res.body).type, 'invalid_request_error');
    // The request was being handled: the 408 carries its id, and its log line says 408, not 499.
    const id = res.headers['x-request-id']?.[0] ?? '';
    const line = await accessLogFor(relay, id);
    assert.equal(line.status, 408);
    assert.equal(line.outcome, 'request_timeout');
  } finally {
    socket.destroy();
  }
  const forwarded = await requestsBesidesSentinel(relay, upstream, { since: before });
  assert.deepEqual(
    forwarded.filter((r) => r.complete),
    [],
    'a partial body may have started upstream, but it must have been aborted',
  );
});

test('the relay keeps serving after cutting slow clients off', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/models`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true });
});
