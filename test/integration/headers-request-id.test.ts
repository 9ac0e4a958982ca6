import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { chatCompletion, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { accessLogFor } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * Every request has one id: the client's x-request-id when it sent a valid one, else the relay's.
 * It is returned, sent upstream and logged; the backend's own id comes back as x-upstream-request-id.
 */

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((_req, res) => {
    const body = JSON.stringify(chatCompletion('gpt-4o', 'Hello!'));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': 'req_upstream_abc123' });
    res.end(body);
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function create(client: OpenAI) {
  return client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] }).withResponse();
}

test('a client x-request-id is kept: returned, sent upstream once and logged', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0, defaultHeaders: { 'x-request-id': 'client-req-42' } });
  const { response, request_id } = await create(client);
  assert.equal(response.headers.get('x-request-id'), 'client-req-42');
  assert.equal(request_id, 'client-req-42', 'the SDK reads the relay id');
  const plain = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] });
  assert.equal(plain._request_id, 'client-req-42');
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.deepEqual(seen.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => n.toLowerCase() === 'x-request-id').length, 1);
  assert.equal(seen.headers['x-request-id'], 'client-req-42');
  const log = await accessLogFor(relay, 'client-req-42');
  assert.equal(log.status, 200);
  assert.equal(log.path, '/chat/completions');
});

test('without a client x-request-id the relay generates one: returned, sent upstream and logged', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const { response } = await create(client);
  const id = response.headers.get('x-request-id');
  assert.ok(id !== null);
  assert.match(id, UUID);
  assert.equal(upstream.requests.at(-1)?.headers['x-request-id'], id);
  const log = await accessLogFor(relay, id);
  assert.equal(log.status, 200);
});

test('each request gets its own generated id', { timeout: 10_000 }, async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${relay.baseURL}/models`);
    await res.arrayBuffer();
    ids.add(res.headers.get('x-request-id') ?? '');
  }
  assert.equal(ids.size, 3);
});

test('the backend x-request-id comes back as x-upstream-request-id and does not replace the relay id', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/models`, { headers: { 'x-request-id': 'client-req-43' } });
  await res.arrayBuffer();
  assert.equal(res.headers.get('x-request-id'), 'client-req-43');
  assert.equal(res.headers.get('x-upstream-request-id'), 'req_upstream_abc123');
  const fresh = await fetch(`${relay.baseURL}/models`);
  await fresh.arrayBuffer();
  assert.match(fresh.headers.get('x-request-id') ?? '', UUID);
  assert.equal(fresh.headers.get('x-upstream-request-id'), 'req_upstream_abc123');
});

test('an invalid client x-request-id is replaced by a generated one, and the backend sees only that one', { timeout: 10_000 }, async () => {
  for (const bad of ['has spaces in it', 'x'.repeat(300), 'quote"inside']) {
    const res = await fetch(`${relay.baseURL}/models`, { headers: { 'x-request-id': bad } });
    await res.arrayBuffer();
    const id = res.headers.get('x-request-id') ?? '';
    assert.match(id, UUID, `a generated id replaces ${JSON.stringify(bad.slice(0, 20))}`);
    const seen = upstream.requests.at(-1);
    assert.ok(seen);
    const sent = seen.rawHeaders.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase() === 'x-request-id' ? [seen.rawHeaders[i + 1]] : []));
    assert.deepEqual(sent, [id], 'exactly the relay id travels upstream');
    await accessLogFor(relay, id);
  }
});
