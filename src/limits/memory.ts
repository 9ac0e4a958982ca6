import { fits, levelAt, toBucketView, waitFor, WINDOW_MS, type Bucket } from './bucket.js';
import { toRateLimitHeaders } from './headers.js';
import { toPeriodWindow, type PeriodWindow } from './period.js';
import { TOO_LARGE_WAIT_MS, toRefusal } from './refusal.js';
import { budgetAmount, budgetLimit, isUnlimited, normalizeRequest, usageDelta } from './request.js';
import type { AcquireRequest, Admission, Admitted, Limiter, RateSnapshot, Verdict } from './types.js';

/**
 * Limits for one process (the default, without state.redis_url). Everything happens synchronously
 * inside acquire(), so checks and reservations are atomic without locks. Memory stays bounded:
 * a key whose buckets are full again, with nothing in flight and no budget spent in the current
 * period, is indistinguishable from a new key, and a sweep (at most once a minute) drops it.
 */

/** A fresh object each time: callers may add to its headers. */
const unlimited = (): Admitted => ({ ok: true, headers: [], settle: () => undefined, release: () => undefined });

interface CappedBucket extends Bucket {
  cap: number;
}

interface KeyState {
  rpm?: CappedBucket;
  tpm?: CappedBucket;
  inFlight: number;
  budget?: { period: string; resetAt: number; used: number };
}

export function createMemoryLimiter(now: () => number = Date.now): Limiter & { readonly size: () => number } {
  const states = new Map<string, KeyState>();
  let lastSweep = now();

  const stateOf = (key: string): KeyState => {
    let st = states.get(key);
    if (st === undefined) {
      st = { inFlight: 0 };
      states.set(key, st);
    }
    return st;
  };

  const sweep = (t: number): void => {
    lastSweep = t;
    for (const [key, st] of states) if (isIdle(st, t)) states.delete(key);
  };

  const acquire = (raw: AcquireRequest): Admission => {
    const req = normalizeRequest(raw);
    if (isUnlimited(req.limits)) return unlimited();
    const t = now();
    if (t - lastSweep >= WINDOW_MS) sweep(t);
    const st = stateOf(req.key);
    const { rpm, tpm, max_concurrency: maxConcurrency, budget } = req.limits;

    const rpmLevel = rpm === undefined ? 0 : levelAt(st.rpm, rpm, t);
    const tpmLevel = tpm === undefined ? 0 : levelAt(st.tpm, tpm, t);
    const window: PeriodWindow | undefined = budget === undefined ? undefined : toPeriodWindow(t, budget.period);
    const used = window !== undefined && st.budget?.period === window.id ? st.budget.used : 0;
    const amount = budget === undefined ? 0 : budgetAmount(budget, req);
    const snapshot = (r: number, k: number): RateSnapshot => ({
      requests: rpm === undefined ? undefined : toBucketView(r, rpm),
      tokens: tpm === undefined ? undefined : toBucketView(k, tpm),
    });

    let verdict: Verdict = { kind: 'ok' };
    let wait = 0;
    if (budget !== undefined && window !== undefined && (used >= budgetLimit(budget) || used + amount > budgetLimit(budget))) {
      verdict = { kind: 'budget', used, resetAt: window.resetAt };
      wait = window.resetAt - t;
    } else if (rpm !== undefined && !fits(rpmLevel, 1)) {
      verdict = { kind: 'rpm' };
      wait = waitFor(rpmLevel, 1, rpm);
    } else if (tpm !== undefined && req.tokens > tpm) {
      verdict = { kind: 'tpm_too_large' };
      wait = TOO_LARGE_WAIT_MS;
    } else if (tpm !== undefined && !fits(tpmLevel, req.tokens)) {
      verdict = { kind: 'tpm' };
      wait = waitFor(tpmLevel, Math.max(req.tokens, 1), tpm);
    } else if (maxConcurrency !== undefined && st.inFlight >= maxConcurrency) {
      verdict = { kind: 'concurrency', inFlight: st.inFlight };
      wait = 1000;
    }
    if (verdict.kind !== 'ok') return toRefusal(req, verdict, snapshot(rpmLevel, tpmLevel), wait);

    if (rpm !== undefined) st.rpm = { level: rpmLevel - 1, at: t, cap: rpm };
    if (tpm !== undefined) st.tpm = { level: tpmLevel - req.tokens, at: t, cap: tpm };
    if (window !== undefined) st.budget = { period: window.id, resetAt: window.resetAt, used: used + amount };
    st.inFlight++;
    const headers = toRateLimitHeaders(snapshot(rpmLevel - 1, tpmLevel - req.tokens));

    let settled = false;
    let released = false;
    return {
      ok: true,
      headers,
      settle(actual) {
        if (settled) return;
        settled = true;
        const delta = usageDelta(req, actual);
        const s = stateOf(req.key);
        if (tpm !== undefined && delta.tokens !== 0) {
          const at = now();
          s.tpm = { level: Math.min(tpm, levelAt(s.tpm, tpm, at) - delta.tokens), at, cap: tpm };
        }
        // A correction belongs to the period the reservation was made in; after a rollover it has none.
        if (budget !== undefined && window !== undefined && s.budget?.period === window.id) {
          s.budget.used = Math.max(0, s.budget.used + (budget.tokens !== undefined ? delta.tokens : delta.cost));
        }
      },
      release() {
        if (released) return;
        released = true;
        const s = states.get(req.key);
        if (s !== undefined && s.inFlight > 0) s.inFlight--;
      },
    };
  };

  return {
    acquire: (req) => Promise.resolve(acquire(req)),
    close: () => Promise.resolve(),
    /** Keys with state kept (for tests of the memory bound). */
    size: () => states.size,
  };
}

function isIdle(st: KeyState, t: number): boolean {
  if (st.inFlight > 0) return false;
  if (st.rpm !== undefined && levelAt(st.rpm, st.rpm.cap, t) < st.rpm.cap) return false;
  if (st.tpm !== undefined && levelAt(st.tpm, st.tpm.cap, t) < st.tpm.cap) return false;
  return st.budget === undefined || st.budget.used <= 0 || st.budget.resetAt <= t;
}
