import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { startMockUpstream, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.js';
import { closeAll, contentOf, eventually, postChat } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// A 429 rests the key that got it for the wait the backend asked (`retry-after-ms`, `retry-after`);
// the request goes on with the backend's other key, or waits for a key when that wait is short.

type Reply = { status: 200 } | { status: 429; headers: Record<string, string> };

const KEYS = ['sk-key-one', 'sk-key-two'];

function keyOf(req: RecordedRequest): string {
  return (req.headers.authorization ?? '').replace(/^Bearer /, '');
}

function answer(res: ServerResponse, reply: Reply, key: string): void {
  const text = reply.status === 200
    ? JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: key }, finish_reason: 'stop' }] })
    : `{"error":{"message":"rate limited on ${key === KEYS[0] ? 'one' : 'two'}","type":"requests","code":"rate_limit_exceeded"}}`;
  res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.status === 429 ? reply.headers : {}) });
  res.end(text);
}

async function setup(retry: Record<string, unknown>, decide: (req: RecordedRequest, index: number) => Reply): Promise<{ mock: MockUpstream; relay: RunningRelay }> {
  let index = 0;
  const mock = await startMockUpstream((req, res) => answer(res, decide(req, index++), keyOf(req)));
  const relay = await startRelay({ retry: { backoff: 0, ...retry }, backends: [{ name: 'only', base_url: mock.url, api_keys: KEYS }] });
  return { mock, relay };
}

test('429 with retry-after: 0 on the first key: the second key serves the request, and the first stays in turn', { timeout: 10_000 }, async () => {
  const { mock, relay } = await setup({}, (req) => (keyOf(req) === KEYS[0] ? { status: 429, headers: { 'retry-after': '0' } } : { status: 200 }));
  try {
    for (let i = 0; i < 3; i++) {
      const res = await postChat(relay, 'm', { requestId: `ra0-${i}` });
      assert.equal(res.status, 200);
      assert.equal(contentOf(res), KEYS[1]);
      assert.equal(res.headers.get('x-relay-backend'), 'only');
      assert.equal(res.headers.get('x-relay-attempts'), '2');
      const log = await accessLogFor(relay, `ra0-${i}`);
      assert.deepEqual(log.retried, [429]);
    }
    assert.deepEqual(mock.requests.map(keyOf), [KEYS[0], KEYS[1], KEYS[0], KEYS[1], KEYS[0], KEYS[1]], 'a zero wait does not take the key out');
  } finally {
    await closeAll(relay, mock);
  }
});

test('a key told to wait (retry-after-ms: 300) is skipped until the wait is over, then used again', { timeout: 10_000 }, async () => {
  let limited = true;
  const { mock, relay } = await setup({}, (req) => (limited && keyOf(req) === KEYS[0] ? { status: 429, headers: { 'retry-after-ms': '300' } } : { status: 200 }));
  try {
    // The key rests 300 ms from its 429, which came after `sent`: it is surely out until sent + 300.
    const sent = Date.now();
    const first = await postChat(relay, 'm');
    assert.equal(contentOf(first), KEYS[1]);
    assert.equal(first.headers.get('x-relay-attempts'), '2');
    limited = false;
    const second = await postChat(relay, 'm');
    const third = await postChat(relay, 'm');
    if (Date.now() - sent < 280) {
      assert.equal(contentOf(second), KEYS[1], 'the resting key is skipped');
      assert.equal(contentOf(third), KEYS[1]);
      assert.equal(second.headers.get('x-relay-attempts'), '1');
    }
    await eventually(async () => contentOf(await postChat(relay, 'm')) === KEYS[0], 3_000, 'the first key to be used again', 50);
    assert.ok(Date.now() - sent >= 300, 'not before its wait');
    assert.equal(mock.requests.filter((r) => keyOf(r) === KEYS[0]).length, 2, 'the first key: its 429, then the request after the wait');
  } finally {
    await closeAll(relay, mock);
  }
});

/** k1 200; k2 429 (wait 700 ms) → k1 200; k1 429 (wait 60 s) → k2 is the only key left, back in < 700 ms. */
const script = (_req: RecordedRequest, index: number): Reply => {
  if (index === 1) return { status: 429, headers: { 'retry-after-ms': '700' } };
  if (index === 3) return { status: 429, headers: { 'retry-after': '60' } };
  return { status: 200 };
};

test('a short wait (within retry.max_retry_after) is waited for: the request succeeds on the key back soonest', { timeout: 10_000 }, async () => {
  const { mock, relay } = await setup({ max_retry_after: 5 }, script);
  try {
    assert.equal(contentOf(await postChat(relay, 'm')), KEYS[0]);
    const secondStarted = Date.now();
    const second = await postChat(relay, 'm');
    assert.equal(contentOf(second), KEYS[0], 'k2 answered 429, k1 served');
    const third = await postChat(relay, 'm', { requestId: 'short-wait' });
    // k2 rests 700 ms from its 429, which came after secondStarted: the third request cannot end sooner.
    const elapsed = Date.now() - secondStarted;
    assert.equal(third.status, 200, third.text);
    assert.equal(contentOf(third), KEYS[1]);
    assert.equal(third.headers.get('x-relay-attempts'), '2');
    assert.ok(elapsed >= 690, `waited for the resting key (${elapsed} ms since the request that rested it)`);
    assert.deepEqual(mock.requests.map(keyOf), [KEYS[0], KEYS[1], KEYS[0], KEYS[0], KEYS[1]]);
    const log = await accessLogFor(relay, 'short-wait');
    assert.deepEqual(log.retried, [429]);
  } finally {
    await closeAll(relay, mock);
  }
});

test('a wait longer than retry.max_retry_after is not waited for: the 429 goes to the client verbatim', { timeout: 10_000 }, async () => {
  const { mock, relay } = await setup({ max_retry_after: 0.1 }, script);
  try {
    await postChat(relay, 'm');
    await postChat(relay, 'm');
    const third = await postChat(relay, 'm');
    assert.equal(third.status, 429);
    assert.equal(third.text, '{"error":{"message":"rate limited on one","type":"requests","code":"rate_limit_exceeded"}}');
    assert.equal(third.headers.get('retry-after'), '60');
    assert.equal(third.headers.get('x-relay-attempts'), '1');
    assert.equal(mock.requests.length, 4);
  } finally {
    await closeAll(relay, mock);
  }
});
