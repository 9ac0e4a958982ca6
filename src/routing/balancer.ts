import type { Health } from './health.js';
import type { Tier } from './table.js';

/** One try: a backend, one of its keys (0 when it has none), and how long to wait before it. */
export interface Choice {
  readonly backend: number;
  readonly key: number;
  /** > 0 only when every candidate is out and this one is back soonest. */
  readonly waitMs: number;
}

/**
 * Picks where each try goes. Within the best tier that has a usable backend: weighted random among
 * backends not tried yet for this request (then among tried ones, on another key); within a backend,
 * keys in turn (round-robin), skipping keys that are out or already tried. When every candidate is
 * out, the one back soonest is chosen with its wait, so a request is never refused while some
 * backend could still serve it; the caller decides whether that wait is short enough.
 */
export class Balancer {
  readonly #health: Health;
  readonly #weights: readonly number[];
  readonly #keyCounts: readonly number[];
  readonly #next: number[];
  readonly #random: () => number;

  constructor(health: Health, backends: readonly { weight: number; keys: number }[], random: () => number = Math.random) {
    this.#health = health;
    this.#weights = backends.map((b) => b.weight);
    this.#keyCounts = backends.map((b) => Math.max(1, b.keys));
    this.#next = backends.map(() => 0);
    this.#random = random;
  }

  /** `tried` holds `backend * 1024 + key` of this request's earlier tries. */
  pick(tiers: readonly Tier[], tried: ReadonlySet<number>): Choice | undefined {
    for (const tier of tiers) {
      let fresh: number[] | undefined;
      let retried: number[] | undefined;
      for (const b of tier) {
        if (!this.#health.usable(b) || this.#freeKey(b, tried, false) === undefined) continue;
        if (this.#triedBackend(b, tried)) (retried ??= []).push(b);
        else (fresh ??= []).push(b);
      }
      const pool = fresh ?? retried;
      if (pool !== undefined) {
        const backend = this.#weighted(pool);
        return { backend, key: this.#takeKey(backend, tried), waitMs: 0 };
      }
    }
    return this.#soonest(tiers, tried);
  }

  /** Every candidate is out: the untried (backend, key) back soonest, best tier first on ties. */
  #soonest(tiers: readonly Tier[], tried: ReadonlySet<number>): Choice | undefined {
    let best: Choice | undefined;
    const now = this.#health.now();
    for (const tier of tiers) {
      for (const b of tier) {
        for (let k = 0; k < (this.#keyCounts[b] ?? 1); k++) {
          if (tried.has(b * 1024 + k)) continue;
          const wait = Math.max(0, this.#health.outUntil(b, k) - now);
          if (best === undefined || wait < best.waitMs) best = { backend: b, key: k, waitMs: wait };
        }
      }
    }
    return best;
  }

  #triedBackend(b: number, tried: ReadonlySet<number>): boolean {
    for (let k = 0; k < (this.#keyCounts[b] ?? 1); k++) if (tried.has(b * 1024 + k)) return true;
    return false;
  }

  #freeKey(b: number, tried: ReadonlySet<number>, advance: boolean): number | undefined {
    const count = this.#keyCounts[b] ?? 1;
    const start = this.#next[b] ?? 0;
    for (let i = 0; i < count; i++) {
      const k = (start + i) % count;
      if (tried.has(b * 1024 + k) || !this.#health.keyUsable(b, k)) continue;
      if (advance) this.#next[b] = (k + 1) % count;
      return k;
    }
    return undefined;
  }

  #takeKey(b: number, tried: ReadonlySet<number>): number {
    return this.#freeKey(b, tried, true) ?? 0;
  }

  #weighted(pool: readonly number[]): number {
    if (pool.length === 1) return pool[0] as number;
    let total = 0;
    for (const b of pool) total += this.#weights[b] ?? 1;
    let r = this.#random() * total;
    for (const b of pool) {
      r -= this.#weights[b] ?? 1;
      if (r < 0) return b;
    }
    return pool[pool.length - 1] as number;
  }
}

export function triedId(backend: number, key: number): number {
  return backend * 1024 + key;
}
