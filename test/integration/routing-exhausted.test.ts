import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { deadPort } from '../helpers/dead-port.js';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { assertOpenAiError, clientOf, closeAll, postChat } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// When every try failed: after retry.max_attempts the client gets the last backend's answer
// verbatim (status, headers, body); when no backend could even be reached, a 502 in OpenAI's shape.

const BODY_A = '{"error":{"message":"a is overloaded","type":"server_error","code":"overloaded_a"}}';
const BODY_B = '{ "error" : { "message":"b: slow down", "type":"requests", "code":"rate_limit_exceeded" } }\n';

let a: MockUpstream;
let b: MockUpstream;
let c: MockUpstream;
let relay: RunningRelay;
let refusing: RunningRelay;

before(async () => {
  a = await startMockUpstream(replyJson(503, BODY_A, { 'x-from': 'a' }));
  b = await startMockUpstream(replyJson(429, BODY_B, { 'x-from': 'b', 'retry-after': '60', 'x-ratelimit-remaining-requests': '0' }));
  c = await startMockUpstream(replyJson(200, { never: 'reached' }));
  relay = await startRelay({
    retry: { backoff: 0, max_attempts: 2 },
    health: { failure_threshold: 100 },
    backends: [
      { name: 'a', base_url: a.url, priority: 0 },
      { name: 'b', base_url: b.url, priority: 1 },
      { name: 'c', base_url: c.url, priority: 2 },
    ],
  });
  refusing = await startRelay({
    retry: { backoff: 0, max_attempts: 5 },
    backends: [
      { name: 'x', base_url: `http://127.0.0.1:${await deadPort()}` },
      { name: 'y', base_url: `http://127.0.0.1:${await deadPort()}` },
      { name: 'z', base_url: `http://127.0.0.1:${await deadPort()}` },
    ],
  });
});
after(() => closeAll(relay, refusing, a, b, c));

test("after retry.max_attempts the client gets the last backend's answer verbatim", { timeout: 10_000 }, async () => {
  const answer = await postChat(relay, 'gpt-4o', { requestId: 'exhausted-1' });
  assert.equal(answer.status, 429);
  assert.equal(answer.text, BODY_B, 'body byte for byte');
  assert.equal(answer.headers.get('x-from'), 'b');
  assert.equal(answer.headers.get('retry-after'), '60');
  assert.equal(answer.headers.get('x-ratelimit-remaining-requests'), '0');
  assert.equal(answer.headers.get('x-relay-backend'), 'b');
  assert.equal(answer.headers.get('x-relay-attempts'), '2');
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 1);
  assert.equal(c.requests.length, 0, 'no try beyond max_attempts');
  const log = await accessLogFor(relay, 'exhausted-1');
  assert.equal(log.status, 429);
  assert.equal(log.backend, 'b');
  assert.equal(log.attempts, 2);
  assert.deepEqual(log.retried, [503]);
});

test('a backend whose only key was told to rest (429, retry-after: 60) is skipped by the next request', { timeout: 10_000 }, async () => {
  const answer = await postChat(relay, 'gpt-4o', { requestId: 'exhausted-2' });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers.get('x-relay-backend'), 'c');
  assert.equal(answer.headers.get('x-relay-attempts'), '2');
  assert.equal(b.requests.length, 1, 'b was not asked again');
  assert.equal(c.requests.length, 1);
  const log = await accessLogFor(relay, 'exhausted-2');
  assert.deepEqual(log.retried, [503]);
});

test('every backend refusing gives a 502 upstream_unreachable in OpenAI shape after max_attempts tries (each backend first, then again)', { timeout: 10_000 }, async () => {
  const answer = await postChat(refusing, 'gpt-4o', { requestId: 'all-refused' });
  assert.equal(answer.status, 502);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assertOpenAiError(answer.text, 'upstream_unreachable', 'api_error');
  assert.equal(answer.headers.get('x-relay-attempts'), '5', 'three backends tried, then tried again up to max_attempts 5');
  const log = await accessLogFor(refusing, 'all-refused');
  assert.equal(log.status, 502);
  assert.equal(log.outcome, 'upstream_unreachable');
  assert.equal(log.attempts, 5);
  assert.deepEqual(log.retried, ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);

  const err = await clientOf(refusing).chat.completions.create({ model: 'gpt-4o', messages: [] }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.APIError && !(err instanceof OpenAI.APIConnectionError), String(err));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_unreachable');
});
