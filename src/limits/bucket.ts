import type { BucketView } from './types.js';

/**
 * rpm and tpm are token buckets: capacity = the per-minute limit, refilled continuously at
 * limit/60 s. Chosen over a sliding-window log because the state is two numbers per key and limit
 * (the same in Redis: one small hash, no sorted set of every request), settle() corrections are a
 * single addition (a bucket may go below zero: tokens already spent are owed), and the reset and
 * retry-after times are exact: the time until the bucket is full, or holds what the request needs.
 * Over any 60 s a key gets at most limit plus what refills meanwhile, with no burst at a window
 * edge; OpenAI's own limits replenish the same way ("x-ratelimit-reset-requests: 1s" at 60 rpm).
 */

export const WINDOW_MS = 60_000;

export interface Bucket {
  /** Units available at `at` (may be negative after a correction). */
  level: number;
  at: number;
}

/** The level at `now`: refilled since `at`, at most `cap`. An absent bucket is full. */
export function levelAt(bucket: Bucket | undefined, cap: number, now: number): number {
  if (bucket === undefined) return cap;
  const elapsed = Math.max(0, now - bucket.at);
  return Math.min(cap, bucket.level + (elapsed * cap) / WINDOW_MS);
}

/** Milliseconds until the bucket holds `need` (0 when it already does). */
export function waitFor(level: number, need: number, cap: number): number {
  return need <= level ? 0 : Math.ceil(((need - level) * WINDOW_MS) / cap);
}

export function toBucketView(level: number, cap: number): BucketView {
  return { limit: cap, remaining: Math.max(0, Math.floor(level)), resetMs: waitFor(level, cap, cap) };
}

/** A request of `cost` fits when the bucket holds it, and holds at least one whole unit. */
export function fits(level: number, cost: number): boolean {
  return level >= Math.max(cost, 1);
}
