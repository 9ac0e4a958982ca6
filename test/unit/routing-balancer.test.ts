import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Balancer, triedId, type Choice } from '../../src/routing/balancer.js';
import { Health } from '../../src/routing/health.js';

/** mulberry32: a small seeded generator, so the distribution test is the same every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function setup(backends: readonly { weight: number; keys: number }[], random: () => number = seeded(1)) {
  const clock = { t: 5_000_000 };
  const health = new Health(
    backends.map((b) => b.keys),
    { failureThreshold: 1, cooldownMs: 30_000, badKeyCooldownMs: 600_000, now: () => clock.t },
  );
  return { clock, health, balancer: new Balancer(health, backends, random) };
}

const NONE: ReadonlySet<number> = new Set();

function must(choice: Choice | undefined): Choice {
  assert.ok(choice !== undefined, 'expected a choice');
  return choice;
}

test('weighted random: picks follow the weights within a tier (seeded)', () => {
  const { balancer } = setup([
    { weight: 3, keys: 0 },
    { weight: 1, keys: 0 },
    { weight: 4, keys: 0 },
  ], seeded(12345));
  const counts = [0, 0, 0];
  const n = 16_000;
  for (let i = 0; i < n; i++) {
    const c = must(balancer.pick([[0, 1, 2]], NONE));
    assert.equal(c.waitMs, 0);
    assert.equal(c.key, 0);
    counts[c.backend] = (counts[c.backend] ?? 0) + 1;
  }
  const expected = [3 / 8, 1 / 8, 4 / 8];
  counts.forEach((count, i) => {
    const share = count / n;
    assert.ok(Math.abs(share - (expected[i] ?? 0)) < 0.02, `backend ${i}: share ${share.toFixed(3)}, expected ${expected[i]}`);
  });
});

test('weighted random: the draw maps onto cumulative weights', () => {
  const cases: readonly [number, number][] = [
    [0, 0],
    [0.74, 0],
    [0.76, 1],
    [0.9999, 1],
  ];
  for (const [r, backend] of cases) {
    const { balancer } = setup([{ weight: 3, keys: 0 }, { weight: 1, keys: 0 }], () => r);
    assert.equal(must(balancer.pick([[0, 1]], NONE)).backend, backend, `random ${r}`);
  }
});

test('the best tier with a usable backend wins; lower tiers only when it is out', () => {
  const { health, balancer } = setup([{ weight: 1, keys: 0 }, { weight: 1, keys: 0 }, { weight: 100, keys: 0 }]);
  const tiers = [[0, 1], [2]];
  for (let i = 0; i < 50; i++) assert.notEqual(must(balancer.pick(tiers, NONE)).backend, 2);
  health.failed(0);
  for (let i = 0; i < 20; i++) assert.equal(must(balancer.pick(tiers, NONE)).backend, 1);
  health.failed(1);
  assert.deepEqual(balancer.pick(tiers, NONE), { backend: 2, key: 0, waitMs: 0 });
});

test('fresh backends before ones already tried by this request, whatever the weights', () => {
  const { balancer } = setup([{ weight: 1000, keys: 2 }, { weight: 1, keys: 1 }], () => 0);
  const tried = new Set([triedId(0, 0)]);
  for (let i = 0; i < 20; i++) assert.equal(must(balancer.pick([[0, 1]], tried)).backend, 1);
});

test('a tried backend is retried on another key when no fresh backend is left', () => {
  const { health, balancer } = setup([{ weight: 1, keys: 2 }, { weight: 1, keys: 1 }]);
  health.failed(1);
  const tried = new Set([triedId(0, 0)]);
  assert.deepEqual(balancer.pick([[0, 1]], tried), { backend: 0, key: 1, waitMs: 0 });
});

test('a backend whose keys were all tried is skipped for the next tier', () => {
  const { balancer } = setup([{ weight: 1, keys: 2 }, { weight: 1, keys: 0 }]);
  const tried = new Set([triedId(0, 0), triedId(0, 1)]);
  assert.deepEqual(balancer.pick([[0], [1]], tried), { backend: 1, key: 0, waitMs: 0 });
});

test('keys in turn (round-robin), skipping resting keys and keys already tried', () => {
  const { clock, health, balancer } = setup([{ weight: 1, keys: 3 }]);
  const keys = (n: number, tried: ReadonlySet<number> = NONE): number[] => Array.from({ length: n }, () => must(balancer.pick([[0]], tried)).key);
  assert.deepEqual(keys(5), [0, 1, 2, 0, 1]);
  health.throttled(0, 0, 10_000);
  assert.deepEqual(keys(4), [2, 1, 2, 1]);
  health.rejected(0, 2);
  assert.deepEqual(keys(3), [1, 1, 1]);
  clock.t += 10_000;
  assert.deepEqual(keys(3), [0, 1, 0]);
  assert.deepEqual(keys(2, new Set([triedId(0, 1)])), [0, 0]);
});

test('round-robin is per backend', () => {
  const { balancer } = setup([{ weight: 1, keys: 2 }, { weight: 1, keys: 3 }]);
  const seq = (b: number): number => must(balancer.pick([[b]], NONE)).key;
  assert.deepEqual([seq(0), seq(1), seq(1), seq(0), seq(1), seq(0)], [0, 0, 1, 1, 2, 0]);
});

test('every candidate out: the untried (backend, key) back soonest, with its wait', () => {
  const { clock, health, balancer } = setup([{ weight: 1, keys: 2 }, { weight: 1, keys: 1 }]);
  health.failed(0); // out 30 s
  health.throttled(1, 0, 5_000);
  assert.deepEqual(balancer.pick([[0, 1]], NONE), { backend: 1, key: 0, waitMs: 5_000 });
  // Already tried: the next soonest.
  assert.deepEqual(balancer.pick([[0, 1]], new Set([triedId(1, 0)])), { backend: 0, key: 0, waitMs: 30_000 });
  // A key resting longer than the circuit counts with its own time.
  health.throttled(0, 0, 50_000);
  assert.deepEqual(balancer.pick([[0, 1]], new Set([triedId(1, 0)])), { backend: 0, key: 1, waitMs: 30_000 });
  clock.t += 4_000;
  assert.deepEqual(balancer.pick([[0, 1]], NONE), { backend: 1, key: 0, waitMs: 1_000 });
});

test('every candidate out: ties go to the best tier, across tiers the shorter wait wins', () => {
  const { health, balancer } = setup([{ weight: 1, keys: 0 }, { weight: 1, keys: 0 }, { weight: 1, keys: 0 }]);
  health.failed(0);
  health.failed(1);
  health.failed(2);
  assert.deepEqual(balancer.pick([[1], [0], [2]], NONE), { backend: 1, key: 0, waitMs: 30_000 });
  health.throttled(1, 0, 40_000);
  assert.deepEqual(balancer.pick([[1], [0], [2]], NONE), { backend: 0, key: 0, waitMs: 30_000 });
});

test('nothing left to try: undefined', () => {
  const { balancer } = setup([{ weight: 1, keys: 2 }, { weight: 1, keys: 0 }]);
  const tried = new Set([triedId(0, 0), triedId(0, 1), triedId(1, 0)]);
  assert.equal(balancer.pick([[0], [1]], tried), undefined);
  assert.equal(balancer.pick([], NONE), undefined);
});

test('a half-open backend with its probe in flight is passed over while another can serve', () => {
  const { clock, health, balancer } = setup([{ weight: 1000, keys: 0 }, { weight: 1, keys: 0 }], () => 0);
  health.failed(0);
  clock.t += 30_000;
  assert.equal(must(balancer.pick([[0, 1]], NONE)).backend, 0, 'half-open takes a probe');
  health.begin(0);
  assert.equal(must(balancer.pick([[0, 1]], NONE)).backend, 1);
  health.succeeded(0);
  assert.equal(must(balancer.pick([[0, 1]], NONE)).backend, 0);
});

test('triedId encodes backend and key', () => {
  assert.equal(triedId(0, 0), 0);
  assert.equal(triedId(2, 3), 2 * 1024 + 3);
  assert.notEqual(triedId(1, 0), triedId(0, 1));
});
