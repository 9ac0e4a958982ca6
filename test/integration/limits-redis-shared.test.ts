import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { redisSkip, startRedis, type RedisProcess } from '../helpers/redis.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor } from '../helpers/usage-fixtures.js';

/**
 * `state.redis_url` (issue 5): two relays sharing one Redis enforce one limit together. A key with
 * rpm 3 gets three requests in all, whichever relay they go to; each relay alone would have let
 * three through. Concurrency slots are shared the same way.
 */

const KEY = 'rk-shared-rpm-0001';
const CONC = 'rk-shared-conc-0002';
const RPM = 3;

describe('two relays sharing one Redis', { skip: redisSkip }, () => {
  let redis: RedisProcess;
  let upstream: MockUpstream;
  let relays: RunningRelay[] = [];

  before(async () => {
    redis = await startRedis();
    upstream = await startMockUpstream(replyChat('ok'));
    const config = {
      backend: { base_url: upstream.url },
      auth: { keys: [{ name: 'shared', key: KEY, rpm: RPM }, { name: 'conc', key: CONC, max_concurrency: 1 }] },
      state: { redis_url: redis.url, on_redis_error: 'fail_closed' },
    };
    relays = [await startRelay(config), await startRelay(config)];
    await Promise.all(relays.map((r) => r.relay.ready()));
  });
  after(async () => {
    for (const r of relays) await r.close();
    await upstream?.close();
    await redis?.stop();
  });

  const CHAT = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };

  test('rpm 3 across both relays: requests alternate, the fourth is refused by whichever relay gets it', { timeout: 5_000 }, async () => {
    const [a, b] = relays as [RunningRelay, RunningRelay];
    const order = [a, b, a];
    for (const [i, relay] of order.entries()) {
      const { response } = await clientFor(relay, KEY).chat.completions.create(CHAT).withResponse();
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), String(RPM));
      assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(RPM - 1 - i), `remaining after request ${i + 1}, counted across relays`);
    }
    const before = upstream.requests.length;
    for (const relay of [b, a]) {
      const err = await apiErrorOf(clientFor(relay, KEY).chat.completions.create(CHAT));
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.code, 'rate_limit_exceeded');
      assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
      assert.ok(Number(err.headers.get('retry-after')) >= 1);
    }
    assert.equal(upstream.requests.length, before, 'the refused requests never reached the backend');
  });

  test('a concurrency slot taken on one relay is full on the other, and free on both once released', { timeout: 5_000 }, async () => {
    const [a, b] = relays as [RunningRelay, RunningRelay];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream.handle(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n');
      await held;
      res.end('data: [DONE]\n\n');
    });
    const stream = await clientFor(a, CONC).chat.completions.create({ ...CHAT, stream: true });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    const err = await apiErrorOf(clientFor(b, CONC).chat.completions.create(CHAT));
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.match(err.message, /Too many concurrent requests/);

    upstream.handle(replyChat('ok'));
    release();
    while ((await it.next()).done !== true);
    // The slot is released with one Redis call after the response closed: poll the other relay briefly.
    const deadline = Date.now() + 2_000;
    for (;;) {
      const outcome = await clientFor(b, CONC).chat.completions.create(CHAT).then(() => 'ok', (e: unknown) => e);
      if (outcome === 'ok') break;
      assert.ok(outcome instanceof OpenAI.RateLimitError && Date.now() < deadline, `the slot to be free on the other relay: ${String(outcome)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
