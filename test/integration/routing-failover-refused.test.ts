import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { deadPort } from '../helpers/dead-port.js';
import type { MockUpstream } from '../helpers/mock-upstream.js';
import { clientOf, closeAll, contentOf, postChat, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// A backend that refuses the connection: the request is tried again on the next backend, and the
// client only sees that backend's answer (plus headers saying what happened).

let good: MockUpstream;
let relay: RunningRelay;
let sameTier: RunningRelay;

before(async () => {
  good = await startLabelled('good');
  const dead = `http://127.0.0.1:${await deadPort()}`;
  relay = await startRelay({
    retry: { backoff: 0 },
    // High threshold: the refusing backend stays in rotation, so every request tries it first.
    health: { failure_threshold: 100 },
    backends: [
      { name: 'refusing', base_url: dead, api_key: 'sk-a', priority: 0 },
      { name: 'good', base_url: good.url, api_key: 'sk-b', priority: 1 },
    ],
  });
  sameTier = await startRelay({
    retry: { backoff: 0 },
    health: { failure_threshold: 100 },
    backends: [
      { name: 'refusing', base_url: dead, weight: 1 },
      { name: 'good', base_url: good.url, weight: 1 },
    ],
  });
});
after(() => closeAll(relay, sameTier, good));

test('a refused connection fails over: the SDK gets the next backend answer, headers name it and count 2 attempts', { timeout: 10_000 }, async () => {
  const { data, response } = await clientOf(relay)
    .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'refused-1' } })
    .withResponse();
  assert.equal(data.choices[0]?.message.content, 'good');
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-relay-backend'), 'good');
  assert.equal(response.headers.get('x-relay-attempts'), '2');
  const log = await accessLogFor(relay, 'refused-1');
  assert.equal(log.status, 200);
  assert.equal(log.outcome, 'ok');
  assert.equal(log.backend, 'good');
  assert.equal(log.attempts, 2);
  assert.deepEqual(log.retried, ['ECONNREFUSED']);
  assert.equal(good.requests.at(-1)?.headers.authorization, 'Bearer sk-b', 'the retry carries the second backend key');
});

test('within one tier, a refused try goes to the other backend; no request fails', { timeout: 10_000 }, async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const answer = await postChat(sameTier, 'gpt-4o');
    assert.equal(answer.status, 200);
    assert.equal(contentOf(answer), 'good');
    seen.add(answer.headers.get('x-relay-attempts') ?? '');
  }
  assert.ok([...seen].every((a) => a === '1' || a === '2'), `attempts ${[...seen].join(',')}`);
});
