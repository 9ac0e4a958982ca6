import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { clientOf, closeAll, postChat, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// A 4xx other than 429 is the client's problem, not the backend's: it is never retried elsewhere,
// and it reaches the client verbatim.

let status = 400;
let first: MockUpstream;
let second: MockUpstream;
let relay: RunningRelay;

before(async () => {
  first = await startMockUpstream((_req, res) => {
    const text = `{"error":{"message":"first said ${status}","type":"invalid_request_error","param":"messages","code":"c${status}"}}`;
    res.writeHead(status, { 'content-type': 'application/json', 'x-first': String(status) });
    res.end(text);
  });
  second = await startLabelled('second');
  relay = await startRelay({
    retry: { backoff: 0, max_attempts: 3 },
    backends: [
      { name: 'first', base_url: first.url, priority: 0 },
      { name: 'second', base_url: second.url, priority: 1 },
    ],
  });
});
after(() => closeAll(relay, first, second));

for (const code of [400, 401, 403, 404, 409, 413, 422]) {
  test(`a ${code} is not retried: one request to the backend, the answer verbatim`, { timeout: 10_000 }, async () => {
    status = code;
    const before = first.requests.length;
    const answer = await postChat(relay, 'gpt-4o', { requestId: `no-retry-${code}` });
    assert.equal(answer.status, code);
    assert.equal(answer.text, `{"error":{"message":"first said ${code}","type":"invalid_request_error","param":"messages","code":"c${code}"}}`);
    assert.equal(answer.headers.get('x-first'), String(code));
    assert.equal(answer.headers.get('x-relay-backend'), 'first');
    assert.equal(answer.headers.get('x-relay-attempts'), '1');
    assert.equal(first.requests.length, before + 1, 'exactly one request');
    assert.equal(second.requests.length, 0, 'the other backend received nothing');
    const log = await accessLogFor(relay, `no-retry-${code}`);
    assert.equal(log.attempts, 1);
    assert.equal(log.retried, undefined);
  });
}

test('the SDK gets the backend error class for a 400 (BadRequestError), after a single try', { timeout: 10_000 }, async () => {
  status = 400;
  const before = first.requests.length;
  const err = await clientOf(relay).chat.completions.create({ model: 'gpt-4o', messages: [] }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.BadRequestError, String(err));
  assert.equal(err.code, 'c400');
  assert.equal(first.requests.length, before + 1);
  assert.equal(second.requests.length, 0);
});
