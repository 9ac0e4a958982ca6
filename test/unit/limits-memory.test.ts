import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientKeySpec } from '../../src/auth/client-keys-schema.js';
import { createMemoryLimiter } from '../../src/limits/memory.js';
import type { AcquireRequest, Admission, Admitted, KeyLimits, Refused } from '../../src/limits/types.js';

/** A clock the test moves by hand. */
function clock(start = Date.UTC(2025, 0, 15, 12, 0, 0)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

function request(limits: KeyLimits, tokens = 0, cost = 0, key = 'alice'): AcquireRequest {
  return { key, limits, tokens, cost };
}

function header(admission: Admission, name: string): string | undefined {
  const h = admission.headers;
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
  return undefined;
}

function admitted(a: Admission): Admitted {
  assert.equal(a.ok, true, a.ok ? '' : `expected admission, got ${a.status} ${a.code}: ${a.message}`);
  return a as Admitted;
}

function refused(a: Admission): Refused {
  assert.equal(a.ok, false, 'expected a refusal');
  assert.ok(!a.ok && a.status === 429, 'expected a 429');
  return a as Refused;
}

test('rpm admits the limit, then refuses with OpenAI headers, retry-after and the requests type', async () => {
  const c = clock();
  const limiter = createMemoryLimiter(c.now);
  const limits = { rpm: 3 };
  const first = admitted(await limiter.acquire(request(limits)));
  assert.equal(header(first, 'x-ratelimit-limit-requests'), '3');
  assert.equal(header(first, 'x-ratelimit-remaining-requests'), '2');
  assert.equal(header(first, 'x-ratelimit-reset-requests'), '20s');
  assert.equal(header(first, 'x-ratelimit-limit-tokens'), undefined, 'no tokens trio without tpm');
  admitted(await limiter.acquire(request(limits)));
  const third = admitted(await limiter.acquire(request(limits)));
  assert.equal(header(third, 'x-ratelimit-remaining-requests'), '0');
  assert.equal(header(third, 'x-ratelimit-reset-requests'), '1m0s');

  const over = refused(await limiter.acquire(request(limits)));
  assert.equal(over.code, 'rate_limit_exceeded');
  assert.equal(over.type, 'requests');
  assert.equal(over.retryAfter, 20);
  assert.equal(header(over, 'retry-after'), '20');
  assert.equal(header(over, 'retry-after-ms'), '20000');
  assert.equal(header(over, 'x-ratelimit-remaining-requests'), '0');
  assert.match(over.message, /requests per min \(RPM\): Limit 3, Used 3, Requested 1\. Please try again in 20s\./);
});

test('the rpm window slides: one request comes back every 60/rpm seconds, all of them after 60 s', async () => {
  const c = clock();
  const limiter = createMemoryLimiter(c.now);
  const limits = { rpm: 4 };
  for (let i = 0; i < 4; i++) admitted(await limiter.acquire(request(limits)));
  refused(await limiter.acquire(request(limits)));
  c.advance(14_999);
  refused(await limiter.acquire(request(limits)));
  c.advance(1);
  admitted(await limiter.acquire(request(limits)));
  refused(await limiter.acquire(request(limits)));
  c.advance(30_000);
  const two = admitted(await limiter.acquire(request(limits)));
  assert.equal(header(two, 'x-ratelimit-remaining-requests'), '1');
  c.advance(60_000);
  for (let i = 0; i < 4; i++) admitted(await limiter.acquire(request(limits)));
  refused(await limiter.acquire(request(limits)));
});

test('a refused request does not count against the limit', async () => {
  const c = clock();
  const limiter = createMemoryLimiter(c.now);
  admitted(await limiter.acquire(request({ rpm: 1 })));
  for (let i = 0; i < 5; i++) refused(await limiter.acquire(request({ rpm: 1 })));
  c.advance(60_000);
  admitted(await limiter.acquire(request({ rpm: 1 })));
});

test('keys are limited independently', async () => {
  const limiter = createMemoryLimiter(clock().now);
  admitted(await limiter.acquire(request({ rpm: 1 }, 0, 0, 'alice')));
  refused(await limiter.acquire(request({ rpm: 1 }, 0, 0, 'alice')));
  admitted(await limiter.acquire(request({ rpm: 1 }, 0, 0, 'bob')));
});

test('tpm reserves the estimate, refuses with the tokens type, and settle() gives back what was not used', async () => {
  const c = clock();
  const limiter = createMemoryLimiter(c.now);
  const limits = { tpm: 1000 };
  const a = admitted(await limiter.acquire(request(limits, 400)));
  assert.equal(header(a, 'x-ratelimit-limit-tokens'), '1000');
  assert.equal(header(a, 'x-ratelimit-remaining-tokens'), '600');
  assert.equal(header(a, 'x-ratelimit-reset-tokens'), '24s');
  admitted(await limiter.acquire(request(limits, 400)));
  const over = refused(await limiter.acquire(request(limits, 400)));
  assert.equal(over.type, 'tokens');
  assert.equal(over.code, 'rate_limit_exceeded');
  assert.equal(over.retryAfter, 12, '200 tokens missing at 1000/min is 12 s');
  assert.match(over.message, /tokens per min \(TPM\): Limit 1000, Used 800, Requested 400/);

  a.settle({ tokens: 100, cost: null });
  const b = admitted(await limiter.acquire(request(limits, 400)));
  assert.equal(header(b, 'x-ratelimit-remaining-tokens'), '100');
});

test('settle() charges actual usage above the estimate, and only once', async () => {
  const c = clock();
  const limiter = createMemoryLimiter(c.now);
  const limits = { tpm: 1000 };
  const a = admitted(await limiter.acquire(request(limits, 100)));
  a.settle({ tokens: 900, cost: null });
  a.settle({ tokens: 900, cost: null });
  a.settle({ tokens: 0, cost: null });
  const over = refused(await limiter.acquire(request(limits, 200)));
  assert.equal(header(over, 'x-ratelimit-remaining-tokens'), '100');
});

test('a request estimated above the tpm limit is refused as too large', async () => {
  const limiter = createMemoryLimiter(clock().now);
  const over = refused(await limiter.acquire(request({ tpm: 1000 }, 1001)));
  assert.equal(over.type, 'tokens');
  assert.match(over.message, /Request too large .* Limit 1000, Requested 1001/);
});

test('a tpm bucket in debt refuses even a request estimated at zero tokens', async () => {
  const c = clock();
  const limiter = createMemoryLimiter(c.now);
  const a = admitted(await limiter.acquire(request({ tpm: 600 }, 0)));
  a.settle({ tokens: 1200, cost: null });
  const over = refused(await limiter.acquire(request({ tpm: 600 }, 0)));
  assert.equal(over.retryAfter, 61, '601 tokens to refill at 10 per second');
  c.advance(61_000);
  admitted(await limiter.acquire(request({ tpm: 600 }, 0)));
});

test('max_concurrency counts requests in flight; release() is idempotent', async () => {
  const limiter = createMemoryLimiter(clock().now);
  const limits = { max_concurrency: 2 };
  const a = admitted(await limiter.acquire(request(limits)));
  admitted(await limiter.acquire(request(limits)));
  const over = refused(await limiter.acquire(request(limits)));
  assert.equal(over.type, 'requests');
  assert.equal(over.retryAfter, 1);
  assert.match(over.message, /concurrent requests .* Limit 2, In flight 2/);
  a.release();
  a.release();
  a.release();
  admitted(await limiter.acquire(request(limits)));
  refused(await limiter.acquire(request(limits)));
});

test('a token budget refuses with insufficient_quota until the next UTC midnight', async () => {
  const c = clock(Date.UTC(2025, 0, 15, 22, 0, 0));
  const limiter = createMemoryLimiter(c.now);
  const limits: KeyLimits = { budget: { tokens: 1000, period: 'day' } };
  const a = admitted(await limiter.acquire(request(limits, 600)));
  assert.deepEqual(a.headers, [], 'budgets add no x-ratelimit headers');
  a.settle({ tokens: 700, cost: null });
  const big = refused(await limiter.acquire(request(limits, 400)));
  assert.equal(big.code, 'insufficient_quota');
  assert.equal(big.type, 'insufficient_quota');
  assert.match(big.message, /daily token budget: 700 of 1000 tokens used and this request needs about 400 tokens\. It renews at 2025-01-16T00:00:00\.000Z/);
  assert.equal(big.retryAfter, 7200);
  const b = admitted(await limiter.acquire(request(limits, 300)));
  b.settle({ tokens: 300, cost: null });
  const spent = refused(await limiter.acquire(request(limits, 0)));
  assert.match(spent.message, /1000 of 1000 tokens used\. It renews/);

  c.set(Date.UTC(2025, 0, 15, 23, 59, 59, 999));
  refused(await limiter.acquire(request(limits, 0)));
  c.set(Date.UTC(2025, 0, 16, 0, 0, 0, 0));
  admitted(await limiter.acquire(request(limits, 1000)));
});

test('a monthly cost budget reserves the estimated cost, settles the actual one, and rolls over on the 1st (UTC)', async () => {
  const c = clock(Date.UTC(2024, 1, 29, 23, 0, 0));
  const limiter = createMemoryLimiter(c.now);
  const limits: KeyLimits = { budget: { cost: 1, period: 'month' } };
  const a = admitted(await limiter.acquire(request(limits, 0, 0.6)));
  refused(await limiter.acquire(request(limits, 0, 0.6)));
  a.settle({ tokens: 10, cost: 0.1 });
  const b = admitted(await limiter.acquire(request(limits, 0, 0.6)));
  b.settle({ tokens: 10, cost: null });
  const over = refused(await limiter.acquire(request(limits, 0, 0.4)));
  assert.equal(over.code, 'insufficient_quota');
  assert.match(over.message, /monthly cost budget: \$0\.7 of \$1 used .* renews at 2024-03-01T00:00:00\.000Z/);
  c.set(Date.UTC(2024, 2, 1));
  admitted(await limiter.acquire(request(limits, 0, 0.9)));
});

test('a settle() after the budget period rolled over does not touch the new period', async () => {
  const c = clock(Date.UTC(2025, 11, 31, 23, 59, 0));
  const limiter = createMemoryLimiter(c.now);
  const limits: KeyLimits = { budget: { tokens: 1000, period: 'month' } };
  const a = admitted(await limiter.acquire(request(limits, 100)));
  c.set(Date.UTC(2026, 0, 1, 0, 1, 0));
  const b = admitted(await limiter.acquire(request(limits, 500)));
  a.settle({ tokens: 900, cost: null });
  b.settle({ tokens: 500, cost: null });
  admitted(await limiter.acquire(request(limits, 500)));
});

test('without limits every request is admitted with no headers', async () => {
  const limiter = createMemoryLimiter(clock().now);
  for (let i = 0; i < 100; i++) assert.deepEqual(admitted(await limiter.acquire(request({}, 10_000))).headers, []);
});

test('memory stays bounded: idle keys are dropped, keys in flight or with budget spent are kept', async () => {
  const c = clock();
  const limiter = createMemoryLimiter(c.now);
  for (let i = 0; i < 1000; i++) admitted(await limiter.acquire(request({ rpm: 10, tpm: 1000 }, 10, 0, `k${i}`))).release();
  const busy = admitted(await limiter.acquire(request({ max_concurrency: 1 }, 0, 0, 'busy')));
  admitted(await limiter.acquire(request({ budget: { tokens: 100, period: 'day' } }, 10, 0, 'spender')));
  assert.equal(limiter.size(), 1002);
  c.advance(60_000);
  admitted(await limiter.acquire(request({ rpm: 10 }, 0, 0, 'new')));
  assert.equal(limiter.size(), 3, 'busy, spender and new remain');
  refused(await limiter.acquire(request({ max_concurrency: 1 }, 0, 0, 'busy')));
  busy.release();
});

test('a bucket holding fractional units reports whole remaining units and never a negative count', async () => {
  const c = clock();
  const limiter = createMemoryLimiter(c.now);
  const a = admitted(await limiter.acquire(request({ tpm: 100 }, 50)));
  a.settle({ tokens: 400, cost: null });
  c.advance(1);
  const over = refused(await limiter.acquire(request({ tpm: 100 }, 10)));
  assert.equal(header(over, 'x-ratelimit-remaining-tokens'), '0');
});

test('a client key spec is its own limits, and limits that are not positive numbers count as not set', async () => {
  const spec: ClientKeySpec = { name: 'alice', key: 'sk-a', rpm: 1, budget: { tokens: 10, period: 'day' } };
  const limits: KeyLimits = spec;
  const limiter = createMemoryLimiter(clock().now);
  admitted(await limiter.acquire(request(limits, 5)));
  refused(await limiter.acquire(request(limits, 5)));
  for (const odd of [{ rpm: 0 }, { tpm: Number.NaN }, { max_concurrency: -1 }, { budget: { tokens: 0, period: 'day' as const } }]) {
    for (let i = 0; i < 3; i++) assert.deepEqual(admitted(await limiter.acquire(request(odd, 100, 0, 'odd'))).headers, []);
  }
});
