import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawGet, requestsBesidesSentinel, toOpenAIError } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { object: 'list', data: [] }));
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

/** Request targets that try to reach another host or leave base_url's path (sent verbatim over a raw socket). */
const HOSTILE_TARGETS: readonly string[] = [
  'http://evil.example/v1/models',
  `http://127.0.0.1:1/v1/models`,
  '//evil.example/v1/models',
  '/v1/../admin',
  '/v1/%2e%2e/admin',
  '/v1/%2E%2E/admin',
  '/v1/.%2E/x',
  '/v1/%2e./x',
  '/v1/./models',
  '/v1/files/..%2f..%2fadmin',
  '/v1/files/..%2F..%2Fadmin',
  '/v1/..\\admin',
  '/v1/..%5cadmin',
  '/v1/..%5Cadmin',
  '/v1/files/%2e%2e%5c%2e%2e%5cadmin',
  '/v1/models/..',
  '/..',
  '*',
];

for (const target of HOSTILE_TARGETS) {
  test(`refuses the request target ${JSON.stringify(target)} with an OpenAI-shaped 400 and never forwards it`, { timeout: 10_000 }, async () => {
    const before = upstream.requests.length;
    const res = await rawGet(relay.port, target, 'Authorization: Bearer sk-client\r\n');
    assert.equal(res.status, 400, `status for ${target}: ${res.raw}`);
    assert.match(res.headers['content-type']?.[0] ?? '', /^application\/json/);
    const error = toOpenAIError(res.body);
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(upstream.requests.length, before, 'the mock received a request');
    assert.deepEqual(
      (await requestsBesidesSentinel(relay, upstream, { since: before })).map((r) => r.url),
      [],
      'nothing but the sentinel may reach the mock',
    );
  });
}

/**
 * Dot segments with path parameters: servlet-style backends (Tomcat, Jetty behind Spring) drop `;…`
 * and then resolve `..`, so `/v1/..;/admin` leaves the base path there.
 */
const PARAMETER_DOT_TARGETS: readonly string[] = ['/v1/..;/admin', '/v1/%2e%2e;jsessionid=x/admin', '/v1/.;/models'];

test('refuses dot segments carrying a path parameter (`..;`) with a 400 and never forwards them', { timeout: 10_000 }, async () => {
  for (const target of PARAMETER_DOT_TARGETS) {
    const before = upstream.requests.length;
    const res = await rawGet(relay.port, target);
    assert.equal(res.status, 400, `status for ${target}: ${res.raw}`);
    assert.equal(toOpenAIError(res.body).type, 'invalid_request_error');
    assert.deepEqual((await requestsBesidesSentinel(relay, upstream, { since: before })).map((r) => r.url), []);
  }
});

/** Legitimate targets with dots, encoded characters and query strings: they arrive byte for byte. */
const LEGIT_TARGETS: readonly string[] = [
  '/v1/models/gpt-3.5-turbo',
  '/v1/models/ft%3Agpt-4o%3Aorg',
  '/v1/models/ft:gpt-4o-mini:my-org::abc123',
  '/v1/models/meta-llama%2FLlama-3.1-8B',
  '/v1/files?purpose=fine-tune&limit=2',
  '/v1/files/file-abc.jsonl/content',
  '/v1/files?after=a..b&order=desc',
  '/v1/vector_stores/vs_1/files?filter=in_progress&limit=20',
  '/v1/models/...',
  '/v1/models/.hidden',
];

for (const target of LEGIT_TARGETS) {
  test(`forwards the legitimate target ${JSON.stringify(target)} exactly`, { timeout: 10_000 }, async () => {
    const before = upstream.requests.length;
    const res = await rawGet(relay.port, target);
    assert.equal(res.status, 200, res.raw);
    assert.deepEqual(JSON.parse(res.body), { object: 'list', data: [] });
    // the mock records a request before it answers it
    assert.equal(upstream.requests.length, before + 1);
    const seen = upstream.requests.at(-1);
    assert.ok(seen);
    assert.equal(seen.url, target);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.headers.host, `127.0.0.1:${upstream.port}`);
  });
}
