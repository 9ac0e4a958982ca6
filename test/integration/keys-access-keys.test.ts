import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel, toOpenAIError } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * auth.keys: a request must carry one of the relay's access keys (Authorization: Bearer, x-api-key
 * or api-key) or it gets an OpenAI-shaped 401 and never reaches the backend. The relay key itself
 * never travels upstream. /health and CORS preflights need no key.
 */

const RELAY_KEYS = ['rk-relay-alpha-111', 'rk-relay-beta-222'] as const;
const BACKEND_KEY = 'sk-backend-secret-999';

let upstream: MockUpstream;
let withBackendKey: RunningRelay;
let withoutBackendKey: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyChat('Hello!'));
  withBackendKey = await startRelay({ backend: { base_url: upstream.url, api_key: BACKEND_KEY }, auth: { keys: [...RELAY_KEYS] } });
  withoutBackendKey = await startRelay({ backend: { base_url: upstream.url, api_key: '' }, auth: { keys: [...RELAY_KEYS] } });
});
after(async () => {
  await withBackendKey.close();
  await withoutBackendKey.close();
  await upstream.close();
});

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Hello!' }] };
const BODY = JSON.stringify(CHAT);
const VALID = { 'x-api-key': RELAY_KEYS[0] };

function allHeaderText(seen: RecordedRequest): string {
  return seen.rawHeaders.join('\n');
}

async function assertRefused(relay: RunningRelay, headers: Record<string, string>): Promise<void> {
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: BODY });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const error = toOpenAIError(await res.text());
  assert.equal(error.type, 'authentication_error');
  for (const key of RELAY_KEYS) assert.ok(!error.message.includes(key));
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before, headers: VALID }), [], 'the backend receives nothing');
}

test('a request without any key gets an OpenAI-shaped 401 and never reaches the backend', { timeout: 10_000 }, async () => {
  await assertRefused(withBackendKey, {});
  await assertRefused(withoutBackendKey, {});
});

test('a wrong key in any of the three headers gets 401 and never reaches the backend', { timeout: 10_000 }, async () => {
  for (const relay of [withBackendKey, withoutBackendKey]) {
    await assertRefused(relay, { authorization: 'Bearer rk-relay-alpha-11' });
    await assertRefused(relay, { authorization: `Basic ${RELAY_KEYS[0]}` });
    await assertRefused(relay, { 'x-api-key': 'rk-relay-alpha-1111' });
    await assertRefused(relay, { 'api-key': 'nope' });
    await assertRefused(relay, { authorization: 'Bearer' });
  }
});

test('the SDK sees a wrong relay key as an AuthenticationError and nothing is forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const client = new OpenAI({ apiKey: 'sk-wrong', baseURL: withBackendKey.baseURL, maxRetries: 0 });
  const err = await client.chat.completions.create(CHAT).then(
    () => assert.fail('expected an AuthenticationError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
  assert.equal(err.status, 401);
  assert.equal(err.type, 'authentication_error');
  assert.deepEqual(await requestsBesidesSentinel(withBackendKey, upstream, { since: before, headers: VALID }), []);
});

test('a right key as Authorization: Bearer is accepted (SDK), and only the backend key travels upstream', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: RELAY_KEYS[1], baseURL: withBackendKey.baseURL, maxRetries: 0 });
  const completion = await client.chat.completions.create(CHAT);
  assert.equal(completion.choices[0]?.message.content, 'Hello!');
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.equal(seen.headers.authorization, `Bearer ${BACKEND_KEY}`);
  for (const key of RELAY_KEYS) assert.ok(!allHeaderText(seen).includes(key), 'the relay key never travels upstream');
});

test('a right key in x-api-key or api-key is accepted, and never travels upstream (with a backend key)', { timeout: 10_000 }, async () => {
  for (const header of ['x-api-key', 'api-key', 'X-Api-Key']) {
    const res = await fetch(`${withBackendKey.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', [header]: RELAY_KEYS[0] }, body: BODY });
    assert.equal(res.status, 200, header);
    await res.arrayBuffer();
    const seen = upstream.requests.at(-1);
    assert.ok(seen);
    assert.equal(seen.headers.authorization, `Bearer ${BACKEND_KEY}`);
    assert.ok(!allHeaderText(seen).includes(RELAY_KEYS[0]), `the relay key sent as ${header} never travels upstream`);
  }
});

test('without a backend key the relay key is removed and the client own backend credential passes', { timeout: 10_000 }, async () => {
  // relay key in x-api-key, the user's OpenAI key in Authorization
  let res = await fetch(`${withoutBackendKey.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': RELAY_KEYS[0], authorization: 'Bearer sk-user-openai-key' },
    body: BODY,
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  let seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.equal(seen.headers.authorization, 'Bearer sk-user-openai-key');
  assert.equal(seen.headers['x-api-key'], undefined);
  assert.ok(!allHeaderText(seen).includes(RELAY_KEYS[0]));

  // relay key in Authorization (SDK), the backend credential in api-key
  const client = new OpenAI({ apiKey: RELAY_KEYS[1], baseURL: withoutBackendKey.baseURL, maxRetries: 0, defaultHeaders: { 'api-key': 'azure-user-key' } });
  await client.chat.completions.create(CHAT);
  seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.equal(seen.headers.authorization, undefined);
  assert.equal(seen.headers['api-key'], 'azure-user-key');
  assert.ok(!allHeaderText(seen).includes(RELAY_KEYS[1]));

  // relay key in api-key
  res = await fetch(`${withoutBackendKey.baseURL}/models`, { headers: { 'api-key': RELAY_KEYS[1] } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.equal(seen.headers['api-key'], undefined);
  assert.ok(!allHeaderText(seen).includes(RELAY_KEYS[1]));
});

test('/health needs no key', { timeout: 10_000 }, async () => {
  for (const relay of [withBackendKey, withoutBackendKey]) {
    const res = await fetch(`${relay.url}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  }
});

test('a CORS preflight needs no key and is not forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${withBackendKey.baseURL}/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.deepEqual(await requestsBesidesSentinel(withBackendKey, upstream, { since: before, headers: VALID }), []);
});
