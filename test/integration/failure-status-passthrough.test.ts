import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-client.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// Odd spacing and a trailing newline: only a byte-for-byte relay keeps them.
const RATE_LIMIT_BODY = '{\n    "error": {\n        "message": "Rate limit reached for gpt-4o in organization org-x on requests per min (RPM): Limit 3, Used 3.",\n        "type": "requests",\n        "param": null,\n        "code": "rate_limit_exceeded"\n    }\n}\n';
const SERVER_ERROR_BODY = '{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}  ';

let upstream: MockUpstream;
/** Where the backend's redirect points: a relay that follows it would show up here. */
let trap: MockUpstream;
let relay: RunningRelay;

before(async () => {
  trap = await startMockUpstream();
  upstream = await startMockUpstream((req, res) => {
    if (req.url.startsWith('/v1/chat/completions')) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7', 'x-ratelimit-remaining-requests': '0', 'content-length': String(Buffer.byteLength(RATE_LIMIT_BODY)) });
      res.end(RATE_LIMIT_BODY);
    } else if (req.url.startsWith('/v1/embeddings')) {
      res.writeHead(500, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(SERVER_ERROR_BODY)) });
      res.end(SERVER_ERROR_BODY);
    } else {
      res.writeHead(302, { location: `${trap.url}/v1/stolen`, 'content-length': '0' });
      res.end();
    }
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
  await trap.close();
});

const client = (): OpenAI => new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });

test('a 429 arrives with the same status, retry-after header and body bytes', { timeout: 10_000 }, async () => {
  const res = await rawRequest(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"gpt-4o","messages":[]}',
  });
  assert.equal(res.status, 429);
  assert.equal(res.headers['retry-after'], '7');
  assert.equal(res.headers['x-ratelimit-remaining-requests'], '0');
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.body.toString(), RATE_LIMIT_BODY);
  assert.equal(res.complete, true);
});

test('the SDK gets a RateLimitError carrying the backend error and retry-after', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const err = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.RateLimitError, `got ${String(err)}`);
  assert.equal(err.status, 429);
  assert.equal(err.headers?.get('retry-after'), '7');
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.equal(err.type, 'requests');
  assert.deepEqual(err.error, (JSON.parse(RATE_LIMIT_BODY) as { error: unknown }).error);
  assert.equal(upstream.requests.length, before + 1, 'exactly one request reached the backend');
});

test('a 500 from the backend passes with its body unchanged', { timeout: 10_000 }, async () => {
  const res = await rawRequest(`${relay.baseURL}/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"text-embedding-3-small","input":"x"}',
  });
  assert.equal(res.status, 500);
  assert.equal(res.body.toString(), SERVER_ERROR_BODY);

  const err = await client().embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.InternalServerError, `got ${String(err)}`);
  assert.equal(err.type, 'server_error');
});

test('a 302 from the backend goes back to the client with its Location and is not followed', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await rawRequest(`${relay.baseURL}/models`);
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, `${trap.url}/v1/stolen`);
  assert.equal(upstream.requests.length, before + 1, 'the backend saw exactly one request');
  assert.equal(upstream.requests.at(-1)?.url, '/v1/models');
  assert.equal(trap.requests.length, 0, 'the redirect target never saw the relay (nor its key)');
});
