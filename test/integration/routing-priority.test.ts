import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { deadPort } from '../helpers/dead-port.js';
import type { MockUpstream } from '../helpers/mock-upstream.js';
import { closeAll, contentOf, postChat, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// Priority tiers: a lower tier (higher number) takes traffic only when no backend of a better tier can.

let primary: MockUpstream;
let secondary: MockUpstream;
let fallback: MockUpstream;
let relay: RunningRelay;
let downRelay: RunningRelay;

before(async () => {
  primary = await startLabelled('primary');
  secondary = await startLabelled('secondary');
  fallback = await startLabelled('fallback');
  relay = await startRelay({
    retry: { backoff: 0 },
    backends: [
      { name: 'fallback', base_url: fallback.url, models: ['*'], priority: 1, weight: 100 },
      { name: 'primary', base_url: primary.url, models: ['*'], priority: 0 },
      { name: 'secondary', base_url: secondary.url, models: ['*'], priority: 0 },
    ],
  });
  downRelay = await startRelay({
    retry: { backoff: 0 },
    health: { failure_threshold: 2, cooldown: 60 },
    backends: [
      { name: 'down', base_url: `http://127.0.0.1:${await deadPort()}`, models: ['*'], priority: 0 },
      { name: 'fallback', base_url: fallback.url, models: ['*'], priority: 1 },
    ],
  });
});
after(() => closeAll(relay, downRelay, primary, secondary, fallback));

test('the lower tier gets nothing while the higher tier is healthy, whatever its weight', { timeout: 10_000 }, async () => {
  const answers = await Promise.all(Array.from({ length: 40 }, () => postChat(relay, 'gpt-4o')));
  for (const a of answers) assert.equal(a.status, 200);
  assert.equal(fallback.requests.length, 0, 'the lower tier received nothing');
  assert.equal(primary.requests.length + secondary.requests.length, 40);
  assert.ok(primary.requests.length > 0 && secondary.requests.length > 0, 'both backends of the best tier share it');
});

test('the lower tier takes the traffic when the higher tier refuses connections', { timeout: 10_000 }, async () => {
  const first = await postChat(downRelay, 'gpt-4o', { requestId: 'tier-down-1' });
  assert.equal(first.status, 200);
  assert.equal(contentOf(first), 'fallback');
  assert.equal(first.headers.get('x-relay-backend'), 'fallback');
  assert.equal(first.headers.get('x-relay-attempts'), '2', 'the higher tier was tried first');
  const log = await accessLogFor(downRelay, 'tier-down-1');
  assert.equal(log.backend, 'fallback');
  assert.equal(log.attempts, 2);
  assert.deepEqual(log.retried, ['ECONNREFUSED']);

  // The second failure opens the circuit: from then on the lower tier is used at once.
  const second = await postChat(downRelay, 'gpt-4o');
  assert.equal(second.headers.get('x-relay-attempts'), '2');
  for (let i = 0; i < 5; i++) {
    const next = await postChat(downRelay, 'gpt-4o', { requestId: `tier-down-open-${i}` });
    assert.equal(next.status, 200);
    assert.equal(contentOf(next), 'fallback');
    assert.equal(next.headers.get('x-relay-attempts'), '1', 'the downed tier is skipped during its cooldown');
  }
});

test('the lower tier takes the traffic when the higher tier goes down, and none before', { timeout: 10_000 }, async () => {
  // Fresh relay: the higher tier is healthy first, then both of its backends answer 503.
  const a = await startLabelled('a');
  const b = await startLabelled('b');
  const c = await startLabelled('c');
  const tiers = await startRelay({
    retry: { backoff: 0, max_attempts: 3 },
    backends: [
      { name: 'a', base_url: a.url, priority: 0 },
      { name: 'b', base_url: b.url, priority: 0 },
      { name: 'c', base_url: c.url, priority: 5 },
    ],
  });
  try {
    for (let i = 0; i < 10; i++) assert.notEqual(contentOf(await postChat(tiers, 'm')), 'c');
    assert.equal(c.requests.length, 0);
    const unavailable = (_req: unknown, res: ServerResponse): void => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"overloaded","type":"server_error"}}');
    };
    a.handle(unavailable);
    b.handle(unavailable);
    const answer = await postChat(tiers, 'm');
    assert.equal(answer.status, 200);
    assert.equal(contentOf(answer), 'c');
    assert.equal(answer.headers.get('x-relay-attempts'), '3', 'both higher-tier backends were tried before the lower tier');
    assert.equal(c.requests.length, 1);
  } finally {
    await closeAll(tiers, a, b, c);
  }
});
