import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel } from '../helpers/raw-http.js';
import { redisSkip, startRedis, type RedisProcess } from '../helpers/redis.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor } from '../helpers/usage-fixtures.js';

/**
 * `state.on_redis_error: fail_closed` (issue 5): when the Redis holding the shared limits stalls
 * or dies (stopped, then killed by PID), requests with limits get 503 `limits_unavailable` within a
 * second (redis_timeout, never a hang) and never reach the backend; keys without limits are not
 * affected; the log says so once.
 */

const KEY = 'rk-fail-closed-0001';
const OPEN = 'rk-fail-closed-open-0002';

describe('Redis stalled or killed with on_redis_error: fail_closed', { skip: redisSkip }, () => {
  let redis: RedisProcess;
  let upstream: MockUpstream;
  let relay: RunningRelay;

  before(async () => {
    redis = await startRedis();
    upstream = await startMockUpstream(replyChat('ok'));
    relay = await startRelay({
      backend: { base_url: upstream.url },
      auth: { keys: [{ name: 'closed', key: KEY, rpm: 100 }, OPEN] },
      state: { redis_url: redis.url, on_redis_error: 'fail_closed', redis_timeout: 0.25 },
    });
    await relay.relay.ready();
  });
  after(async () => {
    redis?.resume();
    await relay?.close();
    await upstream?.close();
    await redis?.stop();
  });

  const CHAT = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };

  async function assertUnavailable(client: OpenAI, what: string): Promise<void> {
    const started = performance.now();
    const err = await apiErrorOf(client.chat.completions.create(CHAT));
    const ms = performance.now() - started;
    assert.ok(err instanceof OpenAI.InternalServerError, `${what}: ${String(err)}`);
    assert.equal(err.status, 503);
    assert.equal(err.code, 'limits_unavailable');
    assert.equal(err.headers.get('retry-after'), '1');
    assert.ok(ms < 1_000, `${what}: answered in ${ms.toFixed(0)} ms`);
  }

  test('a stalled, then killed Redis: 503 limits_unavailable within a second, nothing forwarded, open keys unaffected', { timeout: 10_000 }, async () => {
    const client = clientFor(relay, KEY);
    const ok = await client.chat.completions.create(CHAT).withResponse();
    assert.equal(ok.response.headers.get('x-ratelimit-limit-requests'), '100');
    const before = upstream.requests.length;

    // Stalled: the connection stays up, nothing answers; redis_timeout (250 ms) ends the wait.
    redis.pause();
    await assertUnavailable(client, 'stalled');

    await redis.kill();
    for (let i = 0; i < 3; i++) await assertUnavailable(client, `killed, request ${i + 1}`);

    // The sentinel goes with a key without limits: that it gets through shows such keys need no Redis.
    assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before, headers: { authorization: `Bearer ${OPEN}` } }), []);
    const open = await clientFor(relay, OPEN).chat.completions.create(CHAT);
    assert.equal(open.choices[0]?.message.content, 'ok', 'a key without limits needs no Redis');

    const warnings = relay.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('Redis is unreachable'));
    assert.equal(warnings.length, 1, 'said once per outage');
    assert.equal(warnings[0]?.policy, 'fail_closed');
  });
});
