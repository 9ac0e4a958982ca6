import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { startMockUpstream, type RecordedRequest } from '../helpers/mock-upstream.js';
import { closeAll, contentOf, postChat, replyAs } from '../helpers/routing.js';
import { startRelay } from '../helpers/start-relay.js';

// Several keys of one provider are used in turn; a key the backend rejects (401/403) is taken out
// of the rotation and named in the log by its fingerprint only.

const KEYS = ['sk-live-key-one-SECRET', 'sk-live-key-two-SECRET', 'sk-live-key-three-SECRET'];

function keyOf(req: RecordedRequest): string {
  return (req.headers.authorization ?? '').replace(/^Bearer /, '');
}

function fingerprintOf(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

test('api_keys are used in turn (round-robin), and the client key never reaches the backend', { timeout: 10_000 }, async () => {
  const mock = await startMockUpstream(replyAs('ok'));
  const relay = await startRelay({ backends: [{ name: 'pool', base_url: mock.url, api_keys: KEYS }] });
  try {
    for (let i = 0; i < 7; i++) assert.equal((await postChat(relay, 'gpt-4o')).status, 200);
    assert.deepEqual(mock.requests.map(keyOf), [...KEYS, ...KEYS, KEYS[0]]);
    assert.ok(mock.requests.every((r) => !JSON.stringify(r.headers).includes('sk-client')));
  } finally {
    await closeAll(relay, mock);
  }
});

for (const status of [401, 403]) {
  test(`a key answered ${status} is taken out: later requests never use it, the log names its fingerprint only`, { timeout: 10_000 }, async () => {
    const bad = KEYS[1] as string;
    const mock = await startMockUpstream((req, res) => {
      if (keyOf(req) === bad) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}');
        return;
      }
      replyAs(keyOf(req))(req, res, undefined as never);
    });
    const relay = await startRelay({ backends: [{ name: 'pool', base_url: mock.url, api_keys: KEYS }] });
    try {
      assert.equal(contentOf(await postChat(relay, 'gpt-4o')), KEYS[0]);
      const rejected = await postChat(relay, 'gpt-4o');
      assert.equal(rejected.status, status, 'the rejection itself is passed on (a 4xx is not retried)');
      for (let i = 0; i < 6; i++) {
        const answer = await postChat(relay, 'gpt-4o');
        assert.equal(answer.status, 200);
        assert.notEqual(contentOf(answer), bad);
      }
      const used = mock.requests.map(keyOf);
      assert.deepEqual(used.slice(2), [KEYS[2], KEYS[0], KEYS[2], KEYS[0], KEYS[2], KEYS[0]], 'the good keys alternate');
      assert.equal(used.filter((k) => k === bad).length, 1, 'the bad key was used once only');

      // Whatever the field is called, a warn line carries the bad key's fingerprint as a value.
      const warning = relay.logs.find((l) => l.level === 40 && Object.values(l).includes(fingerprintOf(bad)));
      assert.ok(warning, `a warn line names ${fingerprintOf(bad)}: ${JSON.stringify(relay.logs.filter((l) => l.level === 40))}`);
      assert.equal(warning.backend, 'pool');
      assert.equal(warning.status, status);
      assert.ok(!Object.values(warning).includes(fingerprintOf(KEYS[0] as string)), 'only the bad key is named');
      const text = JSON.stringify(relay.logs);
      for (const key of KEYS) assert.ok(!text.includes(key), `the logs never contain a key (${key.slice(0, 12)}…)`);
    } finally {
      await closeAll(relay, mock);
    }
  });
}

test('a backend with every key rejected falls over to the next backend', { timeout: 10_000 }, async () => {
  const rejecting = await startMockUpstream((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}}');
  });
  const other = await startMockUpstream(replyAs('other'));
  const relay = await startRelay({
    backends: [
      { name: 'rejecting', base_url: rejecting.url, api_keys: ['sk-r1', 'sk-r2'], priority: 0 },
      { name: 'other', base_url: other.url, api_key: 'sk-o', priority: 1 },
    ],
  });
  try {
    assert.equal((await postChat(relay, 'gpt-4o')).status, 401);
    assert.equal((await postChat(relay, 'gpt-4o')).status, 401);
    const answer = await postChat(relay, 'gpt-4o');
    assert.equal(answer.status, 200);
    assert.equal(contentOf(answer), 'other');
    assert.equal(answer.headers.get('x-relay-attempts'), '1', 'the backend without a usable key is skipped');
    assert.equal(rejecting.requests.length, 2);
  } finally {
    await closeAll(relay, rejecting, other);
  }
});
