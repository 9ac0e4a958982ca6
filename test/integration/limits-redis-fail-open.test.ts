import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { redisSkip, startRedis, type RedisProcess } from '../helpers/redis.js';
import { eventually } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor } from '../helpers/usage-fixtures.js';

/**
 * `state.on_redis_error: fail_open` (issue 5): when the Redis holding the shared limits dies
 * mid-run (killed by PID), requests with limits are admitted without them, quickly (never waiting
 * on Redis), without x-ratelimit headers, and the log says so once.
 */

const KEY = 'rk-fail-open-0001';

describe('Redis killed with on_redis_error: fail_open', { skip: redisSkip }, () => {
  let redis: RedisProcess;
  let upstream: MockUpstream;
  let relay: RunningRelay;

  before(async () => {
    redis = await startRedis();
    upstream = await startMockUpstream(replyChat('ok'));
    relay = await startRelay({
      backend: { base_url: upstream.url },
      auth: { keys: [{ name: 'open', key: KEY, rpm: 1 }] },
      state: { redis_url: redis.url, on_redis_error: 'fail_open', redis_timeout: 0.25 },
    });
    await relay.relay.ready();
  });
  after(async () => {
    await relay?.close();
    await upstream?.close();
    await redis?.stop();
  });

  const CHAT = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };

  test('limits hold while Redis runs; once it is killed, requests are admitted within a second each', { timeout: 8_000 }, async () => {
    const client = clientFor(relay, KEY);
    const first = await client.chat.completions.create(CHAT).withResponse();
    assert.equal(first.response.headers.get('x-ratelimit-remaining-requests'), '0');
    const refused = await apiErrorOf(client.chat.completions.create(CHAT));
    assert.ok(refused instanceof OpenAI.RateLimitError, 'the Redis limit is enforced');

    await redis.kill();
    const before = upstream.requests.length;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const { data, response } = await client.chat.completions.create(CHAT).withResponse();
      const ms = performance.now() - started;
      assert.equal(data.choices[0]?.message.content, 'ok');
      assert.ok(ms < 1_000, `request ${i + 1} took ${ms.toFixed(0)} ms`);
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), null, 'no limit headers while limits are not checked');
    }
    assert.equal(upstream.requests.length, before + 3);
    const warnings = relay.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('Redis is unreachable'));
    assert.equal(warnings.length, 1, 'said once per outage');
    assert.equal(warnings[0]?.policy, 'fail_open');
    assert.match(String(warnings[0]?.msg), /admitted without limits/);
  });
});

describe('Redis back after an outage', { skip: redisSkip }, () => {
  let redis: RedisProcess;
  let upstream: MockUpstream;
  let relay: RunningRelay;

  before(async () => {
    redis = await startRedis();
    upstream = await startMockUpstream(replyChat('ok'));
    relay = await startRelay({
      backend: { base_url: upstream.url },
      auth: { keys: [{ name: 'open', key: KEY, rpm: 1 }] },
      state: { redis_url: redis.url, on_redis_error: 'fail_open', redis_timeout: 0.25 },
    });
    await relay.relay.ready();
  });
  after(async () => {
    await relay?.close();
    await upstream?.close();
    await redis?.stop();
  });

  const CHAT = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };

  test('limits are enforced again once Redis is back on its address, and the log says so', { timeout: 8_000 }, async () => {
    const client = clientFor(relay, KEY);
    // SIGKILL by PID (and its temp dir removed): the replacement below is a new, empty Redis.
    await redis.stop();
    const during = await client.chat.completions.create(CHAT).withResponse();
    assert.equal(during.response.headers.get('x-ratelimit-limit-requests'), null, 'admitted without limits');

    redis = await startRedis({ port: redis.port });
    // The limiter reconnects in the background (backoff up to 1 s); it logs when it is back.
    await eventually(() => relay.logs.some((l) => l.msg === 'limits: Redis recovered; limits are enforced again'), 5_000, 'the limiter to reconnect');
    const first = await client.chat.completions.create(CHAT).withResponse();
    assert.equal(first.response.headers.get('x-ratelimit-remaining-requests'), '0');
    const err = await apiErrorOf(client.chat.completions.create(CHAT));
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
  });
});
