import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deadPort } from '../helpers/dead-port.js';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest, requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** /health is the relay's own: GET and HEAD answer 200 {"status":"ok"}, other methods 405, nothing is forwarded. */

let upstream: MockUpstream;
let relay: RunningRelay;
let orphan: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { forwarded: true }));
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
  orphan = await startRelay({ backend: { base_url: `http://127.0.0.1:${await deadPort()}`, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await relay.close();
  await orphan.close();
  await upstream.close();
});

test('GET /health answers 200 {"status":"ok"} as application/json', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.url}/health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(await res.text(), '{"status":"ok"}');
  assert.ok(res.headers.get('x-request-id'));
});

test('GET /health with a query string answers the same', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.url}/health?probe=k8s`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('HEAD /health answers 200 with no body', { timeout: 10_000 }, async () => {
  const res = await rawRequest(relay.port, `HEAD /health HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nConnection: close\r\n\r\n`);
  assert.equal(res.status, 200, res.raw);
  assert.match(res.headers['content-type']?.[0] ?? '', /^application\/json/);
  const head = res.raw.indexOf('\r\n\r\n');
  assert.equal(res.raw.slice(head + 4), '', 'no body bytes after the head');
  assert.ok(res.closed);
});

test('POST /health answers 405 with an Allow header and an OpenAI-shaped error', { timeout: 10_000 }, async () => {
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const res = await fetch(`${relay.url}/health`, { method, body: method === 'DELETE' ? null : '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 405, method);
    const allow = (res.headers.get('allow') ?? '').split(',').map((s) => s.trim());
    assert.ok(allow.includes('GET') && allow.includes('HEAD'), `allow: ${allow.join(', ')}`);
    const body = (await res.json()) as { error?: { message?: unknown; type?: unknown } };
    assert.equal(typeof body.error?.message, 'string');
    assert.equal(body.error?.type, 'invalid_request_error');
  }
});

test('/health is never forwarded to the backend', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  for (const method of ['GET', 'HEAD', 'POST']) {
    const res = await fetch(`${relay.url}/health`, { method });
    await res.arrayBuffer();
  }
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before }), []);
});

test('/health answers 200 even when the backend is unreachable', { timeout: 10_000 }, async () => {
  const res = await fetch(`${orphan.url}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
  const relayed = await fetch(`${orphan.baseURL}/models`);
  assert.equal(relayed.status, 502, 'the backend really is unreachable');
  await relayed.arrayBuffer();
});
