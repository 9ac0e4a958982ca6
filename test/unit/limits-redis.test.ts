import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { after, before, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { toPeriodWindow } from '../../src/limits/period.js';
import { createRedisLimiter, type RedisLimiter, type RedisLimiterOptions } from '../../src/limits/redis.js';
import type { AcquireRequest, Admission, Admitted, KeyLimits } from '../../src/limits/types.js';
import { redisSkip, startRedis, type RedisProcess } from '../helpers/redis.js';
import { withDeadline } from '../helpers/signal.js';

/**
 * The Redis limiter against a real, throwaway redis-server: several limiter instances (each its own
 * ioredis connection, as separate relays would have) share one limit; a dead or stalled Redis
 * follows the policy within a second.
 */

let shared: RedisProcess | undefined;
before(async () => {
  if (!redisSkip) shared = await startRedis();
});
after(async () => {
  await shared?.stop();
});

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly policy?: string;
}

function captureLog(): { log: Logger; lines: LogLine[]; next: (match: RegExp) => Promise<LogLine> } {
  const lines: LogLine[] = [];
  const events = new EventEmitter();
  const log = pino(
    { level: 'info', base: undefined },
    {
      write(s: string) {
        const line = JSON.parse(s) as LogLine;
        lines.push(line);
        events.emit('line', line);
      },
    },
  );
  const next = (match: RegExp): Promise<LogLine> =>
    new Promise((resolve) => {
      const on = (line: LogLine): void => {
        if (!match.test(line.msg)) return;
        events.off('line', on);
        resolve(line);
      };
      events.on('line', on);
    });
  return { log, lines, next };
}

async function limiters(t: TestContext, count: number, options: Partial<RedisLimiterOptions> = {}): Promise<RedisLimiter[]> {
  const url = options.url ?? shared?.url;
  assert.ok(url !== undefined, 'redis is running');
  const prefix = options.prefix ?? `test:${randomUUID()}:`;
  const made = Array.from({ length: count }, () =>
    createRedisLimiter({ policy: 'fail_closed', log: captureLog().log, ...options, url, prefix }),
  );
  t.after(() => Promise.all(made.map((l) => l.close())));
  await withDeadline(Promise.all(made.map((l) => l.ready())), 3000, 'the limiters to connect');
  return made;
}

function request(limits: KeyLimits, tokens = 0, cost = 0, key = 'alice'): AcquireRequest {
  return { key, limits, tokens, cost };
}

function header(a: Admission, name: string): string | undefined {
  for (let i = 0; i < a.headers.length; i += 2) if (a.headers[i] === name) return a.headers[i + 1];
  return undefined;
}

function admitted(a: Admission): Admitted {
  assert.equal(a.ok, true, a.ok ? '' : `expected admission, got ${a.status} ${a.code}: ${a.message}`);
  return a as Admitted;
}

function refusedWith(a: Admission, code: string): void {
  assert.equal(a.ok, false, 'expected a refusal');
  if (!a.ok) assert.equal(a.code, code, a.message);
}

/** Acquires and asserts the answer came within `ms`, however Redis is doing. */
async function quickly(limiter: RedisLimiter, req: AcquireRequest, ms = 1000): Promise<Admission> {
  const started = performance.now();
  const admission = await withDeadline(limiter.acquire(req), 3000, 'acquire');
  const took = performance.now() - started;
  assert.ok(took < ms, `acquire took ${took.toFixed(0)} ms`);
  return admission;
}

const skip = redisSkip;

test('two limiters sharing one Redis enforce one rpm limit', { skip }, async (t) => {
  const [a, b] = await limiters(t, 2);
  assert.ok(a && b);
  const limits = { rpm: 4 };
  const remaining: (string | undefined)[] = [];
  for (const limiter of [a, b, a, b]) remaining.push(header(admitted(await limiter.acquire(request(limits))), 'x-ratelimit-remaining-requests'));
  assert.deepEqual(remaining, ['3', '2', '1', '0']);
  for (const limiter of [a, b]) {
    const over = await limiter.acquire(request(limits));
    refusedWith(over, 'rate_limit_exceeded');
    assert.ok(!over.ok && over.status === 429 && over.type === 'requests');
    assert.equal(header(over, 'retry-after'), '15');
    assert.equal(header(over, 'x-ratelimit-limit-requests'), '4');
  }
  admitted(await a.acquire(request(limits, 0, 0, 'bob')));
});

test('two limiters sharing one Redis enforce one concurrency limit; release() is idempotent', { skip }, async (t) => {
  const [a, b] = await limiters(t, 2);
  assert.ok(a && b);
  const limits = { max_concurrency: 2 };
  const first = admitted(await a.acquire(request(limits)));
  admitted(await b.acquire(request(limits)));
  refusedWith(await a.acquire(request(limits)), 'rate_limit_exceeded');
  refusedWith(await b.acquire(request(limits)), 'rate_limit_exceeded');
  first.release();
  first.release();
  // Commands on one connection run in order: a's next acquire sees its own release.
  admitted(await a.acquire(request(limits)));
  refusedWith(await b.acquire(request(limits)), 'rate_limit_exceeded');
});

test('tpm is shared and settle() corrects the reservation', { skip }, async (t) => {
  const [a, b] = await limiters(t, 2);
  assert.ok(a && b);
  const limits = { tpm: 1000 };
  const first = admitted(await a.acquire(request(limits, 600)));
  assert.equal(header(first, 'x-ratelimit-remaining-tokens'), '400');
  const over = await b.acquire(request(limits, 600));
  refusedWith(over, 'rate_limit_exceeded');
  assert.ok(!over.ok && over.type === 'tokens');
  first.settle({ tokens: 100, cost: null });
  first.settle({ tokens: 100, cost: null });
  const again = admitted(await a.acquire(request(limits, 600)));
  assert.equal(header(again, 'x-ratelimit-remaining-tokens'), '300');
  refusedWith(await b.acquire(request(limits, 1001)), 'rate_limit_exceeded');
});

test('budgets roll over on UTC day and month boundaries computed by the script', { skip }, async (t) => {
  let now = 0;
  const [limiter] = await limiters(t, 1, { now: () => now });
  assert.ok(limiter);
  const cases: [number, 'day' | 'month'][] = [
    [Date.UTC(2025, 11, 31, 23, 59, 59, 999), 'month'],
    [Date.UTC(2024, 1, 29, 12), 'month'],
    [Date.UTC(2024, 1, 28, 23, 30), 'day'],
    [Date.UTC(2100, 1, 28, 1), 'day'],
    [Date.UTC(2000, 1, 29, 1), 'month'],
  ];
  for (const [i, [at, period]] of cases.entries()) {
    now = at;
    const key = `budget-${i}`;
    const limits: KeyLimits = { budget: { tokens: 10, period } };
    admitted(await limiter.acquire(request(limits, 10, 0, key)));
    const over = await limiter.acquire(request(limits, 1, 0, key));
    refusedWith(over, 'insufficient_quota');
    const { resetAt } = toPeriodWindow(at, period);
    assert.ok(!over.ok && over.message.includes(`renews at ${new Date(resetAt).toISOString()}`), over.ok ? '' : over.message);
    now = resetAt - 1;
    refusedWith(await limiter.acquire(request(limits, 1, 0, key)), 'insufficient_quota');
    now = resetAt;
    admitted(await limiter.acquire(request(limits, 10, 0, key)));
  }
});

test('a cost budget reserves the estimate and settles the actual cost', { skip }, async (t) => {
  const [limiter] = await limiters(t, 1);
  assert.ok(limiter);
  const limits: KeyLimits = { budget: { cost: 1, period: 'day' } };
  const a = admitted(await limiter.acquire(request(limits, 0, 0.75)));
  refusedWith(await limiter.acquire(request(limits, 0, 0.5)), 'insufficient_quota');
  a.settle({ tokens: 10, cost: 0.25 });
  admitted(await limiter.acquire(request(limits, 0, 0.5)));
  refusedWith(await limiter.acquire(request(limits, 0, 0.5)), 'insufficient_quota');
});

test('the concurrency slots of a relay that died free themselves after the lease', { skip }, async (t) => {
  let now = Date.now();
  const leaseMs = 5000;
  const [a, b] = await limiters(t, 2, { now: () => now, leaseMs });
  assert.ok(a && b);
  const limits = { max_concurrency: 1 };
  admitted(await a.acquire(request(limits)));
  await a.close();
  refusedWith(await b.acquire(request(limits)), 'rate_limit_exceeded');
  now += leaseMs + 1;
  admitted(await b.acquire(request(limits)));
});

test('a live relay renews its concurrency leases, so a long request keeps its slot', { skip }, async (t) => {
  assert.ok(shared);
  const t0 = Date.now();
  let now = t0;
  const leaseMs = 300;
  const prefix = `test:${randomUUID()}:`;
  const [a, b] = await limiters(t, 2, { now: () => now, leaseMs, prefix });
  assert.ok(a && b);
  // Watch the lease set through keyspace notifications: the renewal is a ZADD on it.
  const admin = new Redis(shared.url);
  const sub = new Redis(shared.url);
  t.after(() => {
    admin.disconnect();
    sub.disconnect();
  });
  await admin.config('SET', 'notify-keyspace-events', 'Kz');
  await sub.subscribe(`__keyspace@0__:${prefix}{alice}:conc`);
  let zadds = 0;
  const renewed = new Promise<void>((resolve) => {
    sub.on('message', (_channel: string, event: string) => {
      if (event === 'zadd' && ++zadds === 2) resolve();
    });
  });
  admitted(await a.acquire(request({ max_concurrency: 1 })));
  now = t0 + 200;
  await withDeadline(renewed, 2000, 'the lease to be renewed');
  now = t0 + 400;
  refusedWith(await b.acquire(request({ max_concurrency: 1 })), 'rate_limit_exceeded');
});

test('Redis killed mid-test: fail_open admits and fail_closed refuses at once, each said once in the log, and recovery is logged', { skip }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const open = captureLog();
  const closed = captureLog();
  const [failOpen] = await limiters(t, 1, { url: redis.url, policy: 'fail_open', log: open.log });
  const [failClosed] = await limiters(t, 1, { url: redis.url, policy: 'fail_closed', log: closed.log });
  assert.ok(failOpen && failClosed);
  const limits = { rpm: 100, max_concurrency: 10 };
  assert.ok(admitted(await failOpen.acquire(request(limits))).headers.length > 0);
  admitted(await failClosed.acquire(request(limits)));

  await redis.kill();
  for (let i = 0; i < 3; i++) {
    const a = admitted(await quickly(failOpen, request(limits)));
    assert.deepEqual(a.headers, [], 'no limit headers while limits are not checked');
    a.settle({ tokens: 5, cost: null });
    a.release();
    const r = await quickly(failClosed, request(limits));
    assert.ok(!r.ok && r.status === 503 && r.code === 'limits_unavailable', JSON.stringify(r));
    assert.equal(header(r, 'retry-after'), '1');
    admitted(await quickly(failClosed, request({})));
  }
  const warned = (lines: LogLine[]): LogLine[] => lines.filter((l) => l.level === 40);
  assert.equal(warned(open.lines).length, 1, JSON.stringify(open.lines));
  assert.equal(warned(closed.lines).length, 1, JSON.stringify(closed.lines));
  assert.match(warned(open.lines)[0]?.msg ?? '', /unreachable.*admitted without limits.*fail_open/);
  assert.match(warned(closed.lines)[0]?.msg ?? '', /unreachable.*refused.*fail_closed/);

  const recovered = Promise.all([open.next(/recovered/), closed.next(/recovered/)]);
  const again = await startRedis({ port: redis.port });
  t.after(() => again.stop());
  await withDeadline(recovered, 4000, 'both limiters to log the recovery');
  assert.ok(admitted(await failOpen.acquire(request(limits))).headers.length > 0);
  admitted(await failClosed.acquire(request(limits)));
  assert.equal(open.lines.filter((l) => /recovered/.test(l.msg)).length, 1);
});

test('a stalled Redis (no answers) never hangs a request: the command times out and the policy applies', { skip }, async (t) => {
  const redis = shared;
  assert.ok(redis);
  const [failOpen] = await limiters(t, 1, { policy: 'fail_open', timeoutMs: 150 });
  const [failClosed] = await limiters(t, 1, { policy: 'fail_closed', timeoutMs: 150 });
  assert.ok(failOpen && failClosed);
  redis.pause();
  t.after(() => redis.resume());
  const [a, r] = await Promise.all([quickly(failOpen, request({ rpm: 5 })), quickly(failClosed, request({ rpm: 5 }))]);
  assert.ok(a.ok);
  assert.ok(!r.ok && r.code === 'limits_unavailable');
  redis.resume();
  admitted(await failClosed.acquire(request({ rpm: 5 })));
});
