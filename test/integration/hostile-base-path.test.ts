import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, replyJson, startMockUpstream, type MockHandler, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawGet } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * The upstream URL is always base_url's path plus the request's API path: `/v1` is added unless
 * base_url already ends in a version, and a request without the `/v1` prefix lands on the same path.
 */

let upstream: MockUpstream;
const relays: RunningRelay[] = [];

const reply: MockHandler = (req, res, raw) => {
  if (req.url.includes('/chat/completions')) replyChat('hi')(req, res, raw);
  else replyJson(200, { object: 'list', data: [] })(req, res, raw);
};

before(async () => {
  upstream = await startMockUpstream(reply);
});
after(async () => {
  for (const r of relays) await r.close();
  await upstream.close();
});

async function relayFor(suffix: string): Promise<RunningRelay> {
  const relay = await startRelay({ backend: { base_url: upstream.url + suffix, api_key: 'sk-backend-secret' } });
  relays.push(relay);
  return relay;
}

const CASES: readonly { suffix: string; prefix: string }[] = [
  { suffix: '', prefix: '/v1' },
  { suffix: '/', prefix: '/v1' },
  { suffix: '/v1', prefix: '/v1' },
  { suffix: '/v1/', prefix: '/v1' },
  { suffix: '/api/v1', prefix: '/api/v1' },
  { suffix: '/openai', prefix: '/openai/v1' },
  { suffix: '/openai/', prefix: '/openai/v1' },
];

for (const { suffix, prefix } of CASES) {
  test(`base_url http://127.0.0.1:P${suffix} sends /v1/chat/completions to ${prefix}/chat/completions`, { timeout: 10_000 }, async () => {
    const relay = await relayFor(suffix);
    const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
    const before = upstream.requests.length;
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] });
    assert.equal(completion.choices[0]?.message.content, 'hi');
    assert.equal(upstream.requests.length, before + 1);
    assert.equal(upstream.requests.at(-1)?.url, `${prefix}/chat/completions`);
  });

  test(`base_url http://127.0.0.1:P${suffix} keeps the query string of /v1/files?purpose=fine-tune&limit=2`, { timeout: 10_000 }, async () => {
    const relay = await relayFor(suffix);
    const res = await rawGet(relay.port, '/v1/files?purpose=fine-tune&limit=2');
    assert.equal(res.status, 200, res.raw);
    assert.equal(upstream.requests.at(-1)?.url, `${prefix}/files?purpose=fine-tune&limit=2`);
  });
}

test('a client configured with a bare base URL (no /v1) reaches the same upstream path as with /v1', { timeout: 10_000 }, async () => {
  const relay = await relayFor('/api/v1');
  const bare = new OpenAI({ apiKey: 'sk-client', baseURL: relay.url, maxRetries: 0 });
  const versioned = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const before = upstream.requests.length;
  await bare.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one' }] });
  await versioned.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'two' }] });
  const seen = upstream.requests.slice(before).map((r) => r.url);
  assert.deepEqual(seen, ['/api/v1/chat/completions', '/api/v1/chat/completions']);
});

test('a bare /chat/completions and /models?limit=1 go to the same upstream paths as their /v1 forms', { timeout: 10_000 }, async () => {
  const relay = await relayFor('');
  const before = upstream.requests.length;
  for (const target of ['/chat/completions', '/v1/chat/completions']) {
    const res = await fetch(`${relay.url}${target}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o","messages":[]}' });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  for (const target of ['/models?limit=1', '/v1/models?limit=1']) {
    const res = await rawGet(relay.port, target);
    assert.equal(res.status, 200);
  }
  assert.deepEqual(
    upstream.requests.slice(before).map((r) => `${r.method} ${r.url}`),
    ['POST /v1/chat/completions', 'POST /v1/chat/completions', 'GET /v1/models?limit=1', 'GET /v1/models?limit=1'],
  );
});
