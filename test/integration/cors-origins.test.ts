import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** server.cors: {origins: [...]}: listed origins are echoed (with Vary: Origin), others get no grant. */

const ALLOWED = 'https://app.example';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { ok: true }, { 'access-control-allow-origin': '*' }));
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' }, server: { cors: { origins: [ALLOWED] } } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

function varies(value: string | null): string[] {
  return (value ?? '').split(',').map((s) => s.trim().toLowerCase());
}

test('a listed origin is echoed with Vary: Origin and the exposed headers', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/models`, { headers: { origin: ALLOWED } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
  assert.ok(varies(res.headers.get('vary')).includes('origin'));
  assert.ok(varies(res.headers.get('access-control-expose-headers')).includes('x-request-id'));
});

test('another origin gets no access-control-allow-origin (nor the backend one) but still Vary: Origin', { timeout: 10_000 }, async () => {
  for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'http://app.example', 'null']) {
    const res = await fetch(`${relay.baseURL}/models`, { headers: { origin } });
    assert.equal(res.status, 200, 'the request itself is still relayed (browsers enforce CORS)');
    await res.arrayBuffer();
    assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
    assert.ok(varies(res.headers.get('vary')).includes('origin'));
  }
});

test('a preflight from a listed origin gets 204 with the origin echoed, and is not forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
  assert.ok(res.headers.get('access-control-allow-methods')?.includes('POST'));
  assert.ok(varies(res.headers.get('access-control-allow-headers')).includes('authorization'));
  assert.ok(Number(res.headers.get('access-control-max-age')) > 0);
  assert.ok(varies(res.headers.get('vary')).includes('origin'));
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before }), []);
});

test('a preflight from another origin gets no grant and is not forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
  });
  assert.ok(res.status >= 200 && res.status < 500, `answered by the relay (${res.status})`);
  await res.arrayBuffer();
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  assert.equal(res.headers.get('access-control-allow-methods'), null);
  assert.equal(res.headers.get('access-control-allow-headers'), null);
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before }), []);
});
