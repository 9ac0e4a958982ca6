import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { closeAll, contentOf, postChat, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// The seed's single `backend:` block keeps its behaviour: one try by default (a 503 passes through
// once), /v1/models passes through; written beside `backends:` it is the catch-all last tier.

const MODELS = '{"object":"list","data":[{"id":"anything-the-backend-has","object":"model","created":1,"owned_by":"x"}],"extra":true}';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((req, res) => {
    if (req.url === '/v1/models') return replyJson(200, MODELS)(req, res, undefined as never);
    replyJson(503, '{"error":{"message":"overloaded","type":"server_error"}}', { 'retry-after': '1' })(req, res, undefined as never);
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(() => closeAll(relay, upstream));

test('a 503 from the single backend passes through once, not retried', { timeout: 10_000 }, async () => {
  const answer = await postChat(relay, 'gpt-4o', { requestId: 'single-503' });
  assert.equal(answer.status, 503);
  assert.equal(answer.text, '{"error":{"message":"overloaded","type":"server_error"}}');
  assert.equal(answer.headers.get('retry-after'), '1');
  assert.equal(upstream.requests.length, 1);
  assert.equal(answer.headers.get('x-relay-backend'), 'default');
  assert.equal(answer.headers.get('x-relay-attempts'), '1');
  const log = await accessLogFor(relay, 'single-503');
  assert.equal(log.attempts, 1);
  assert.equal(log.retried, undefined);
});

test('/v1/models passes through to the backend verbatim', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/models`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), MODELS);
  assert.equal(upstream.requests.length, before + 1);
  assert.equal(upstream.requests.at(-1)?.url, '/v1/models');
  assert.equal(upstream.requests.at(-1)?.headers.authorization, 'Bearer sk-backend');
});

test('any model name goes to the single backend (no 404 of its own)', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const answer = await postChat(relay, 'some-model-nobody-listed');
  assert.equal(answer.status, 503, 'the backend answered');
  assert.equal(upstream.requests.length, before + 1);
});

test('`backend:` beside `backends:` is the catch-all for models no listed backend serves', { timeout: 10_000 }, async () => {
  const listed = await startLabelled('listed');
  const catchAll = await startLabelled('catch-all');
  const both = await startRelay({
    backend: { base_url: catchAll.url },
    backends: [{ name: 'listed', base_url: listed.url, models: ['gpt-*'] }],
  });
  try {
    const gpt = await postChat(both, 'gpt-4o');
    assert.equal(contentOf(gpt), 'listed');
    const other = await postChat(both, 'claude-3-opus');
    assert.equal(contentOf(other), 'catch-all');
    assert.equal(other.headers.get('x-relay-backend'), 'default');
  } finally {
    await closeAll(both, listed, catchAll);
  }
});
