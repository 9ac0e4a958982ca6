import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { chatCompletion, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest, requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * CORS by default (the seed's behaviour): any origin, the useful headers exposed, preflights answered
 * by the relay and never forwarded, the backend's own access-control-* headers replaced.
 */

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((_req, res) => {
    const body = JSON.stringify(chatCompletion('gpt-4o', 'Hello!'));
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'access-control-allow-origin': 'https://upstream.example',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-upstream-only',
      'access-control-allow-methods': 'GET',
      'x-ratelimit-remaining-requests': '99',
    });
    res.end(body);
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

function exposed(value: string | null): string[] {
  return (value ?? '').split(',').map((s) => s.trim().toLowerCase());
}

test('responses allow any origin and expose x-request-id and the rate-limit headers', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0, defaultHeaders: { origin: 'https://any.example' } });
  const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] }).withResponse();
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  const list = exposed(response.headers.get('access-control-expose-headers'));
  for (const name of ['x-request-id', 'x-ratelimit-remaining-requests', 'x-ratelimit-remaining-tokens', 'openai-processing-ms', 'server-timing']) {
    assert.ok(list.includes(name), `${name} is exposed: ${list.join(', ')}`);
  }
  assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '99');
});

test('responses to a request without Origin carry the CORS headers too', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/models`);
  await res.arrayBuffer();
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
});

test('the backend access-control-* headers are replaced, not duplicated', { timeout: 10_000 }, async () => {
  const res = await rawRequest(relay.port, `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n`);
  assert.equal(res.status, 200, res.raw);
  assert.deepEqual(res.headers['access-control-allow-origin'], ['*']);
  assert.equal(res.headers['access-control-expose-headers']?.length, 1);
  assert.ok(!exposed(res.headers['access-control-expose-headers']?.[0] ?? '').includes('x-upstream-only'));
  assert.equal(res.headers['access-control-allow-credentials'], undefined, 'credentials are never allowed with *');
  assert.equal(res.headers['access-control-allow-methods'], undefined);
  assert.doesNotMatch(res.raw, /upstream\.example/);
});

test('a preflight gets 204 with allow-methods, allow-headers and max-age, and is never forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, openai-beta, x-stainless-os',
    },
  });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), '');
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const methods = exposed(res.headers.get('access-control-allow-methods'));
  for (const m of ['get', 'post', 'delete']) assert.ok(methods.includes(m), `${m} allowed: ${methods.join(', ')}`);
  const allowed = exposed(res.headers.get('access-control-allow-headers'));
  for (const h of ['authorization', 'content-type', 'openai-beta', 'x-stainless-os']) assert.ok(allowed.includes(h), `${h} allowed: ${allowed.join(', ')}`);
  assert.match(res.headers.get('access-control-max-age') ?? '', /^\d+$/);
  assert.ok(Number(res.headers.get('access-control-max-age')) > 0);
  assert.ok(res.headers.get('x-request-id'));
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before }), []);
});

test('a preflight for any path (even outside /v1) is answered by the relay, not forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  for (const path of ['/v1/audio/transcriptions', '/chat/completions', '/v1/models/gpt-4o?x=1']) {
    const res = await fetch(`${relay.url}${path}`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE' } });
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    await res.arrayBuffer();
  }
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before }), []);
});

test('a plain OPTIONS without Access-Control-Request-Method is forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/models`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.equal(upstream.requests.length, before + 1);
  assert.equal(upstream.requests.at(-1)?.method, 'OPTIONS');
  assert.equal(upstream.requests.at(-1)?.url, '/v1/models');
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
});
