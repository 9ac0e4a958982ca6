import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest, requestsBesidesSentinel, toOpenAIError } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** Request heads are bounded by server.max_header_size: past it, 431 in OpenAI's shape, nothing forwarded. */

let upstream: MockUpstream;
let small: RunningRelay;
let standard: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { ok: true }));
  small = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' }, server: { max_header_size: 4096 } });
  standard = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await small.close();
  await standard.close();
  await upstream.close();
});

function requestWith(port: number, headers: string): string {
  return `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers}Connection: close\r\n\r\n`;
}

test('one header larger than max_header_size gets an OpenAI-shaped 431 and is not forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await rawRequest(small.port, requestWith(small.port, `X-Big: ${'a'.repeat(8 * 1024)}\r\n`));
  assert.equal(res.status, 431, res.raw.slice(0, 200));
  assert.match(res.headers['content-type']?.[0] ?? '', /^application\/json/);
  assert.equal(toOpenAIError(res.body).type, 'invalid_request_error');
  assert.deepEqual(await requestsBesidesSentinel(small, upstream, { since: before }), []);
});

test('many small headers adding up past max_header_size get 431 and are not forwarded', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const many = Array.from({ length: 100 }, (_, i) => `X-H${i}: ${'b'.repeat(60)}\r\n`).join('');
  const res = await rawRequest(small.port, requestWith(small.port, many));
  assert.equal(res.status, 431, res.raw.slice(0, 200));
  assert.equal(toOpenAIError(res.body).type, 'invalid_request_error');
  assert.deepEqual(await requestsBesidesSentinel(small, upstream, { since: before }), []);
});

test('headers under max_header_size pass, and the limit is the configured one (8 KB passes the default 16 KB)', { timeout: 10_000 }, async () => {
  const underSmall = await rawRequest(small.port, requestWith(small.port, `X-Fits: ${'c'.repeat(2 * 1024)}\r\n`));
  assert.equal(underSmall.status, 200, underSmall.raw.slice(0, 200));
  assert.equal(upstream.requests.at(-1)?.headers['x-fits'], 'c'.repeat(2 * 1024));

  const eightKb = `X-Big: ${'d'.repeat(8 * 1024)}\r\n`;
  const onStandard = await rawRequest(standard.port, requestWith(standard.port, eightKb));
  assert.equal(onStandard.status, 200, onStandard.raw.slice(0, 200));
  assert.equal(upstream.requests.at(-1)?.headers['x-big'], 'd'.repeat(8 * 1024));
});
