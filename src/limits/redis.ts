import { randomUUID } from 'node:crypto';
import type { Redis as RedisClient } from 'ioredis';
import { loadDriver } from '../drivers.js';
import type { Logger } from '../log.js';
import { toBucketView, waitFor } from './bucket.js';
import { toRateLimitHeaders } from './headers.js';
import { ACQUIRE, RENEW, SETTLE, type LuaScript } from './redis-scripts.js';
import { TOO_LARGE_WAIT_MS, toRefusal, toUnavailable } from './refusal.js';
import { budgetAmount, budgetLimit, isUnlimited, normalizeRequest, usageDelta } from './request.js';
import type { AcquireRequest, Admission, Admitted, KeyLimits, Limiter, RateSnapshot, Verdict } from './types.js';

/**
 * Limits shared by every relay through Redis (state.redis_url). acquire() is one round trip: one
 * EVALSHA of an atomic script that checks every limit and reserves. settle() and release() are a
 * second call, sent without being awaited, off the hot path.
 *
 * Never hang: no offline queue (a command while disconnected fails at once), a per-command
 * timeout (a stalled server fails within timeoutMs), no resending after a reconnect (a reservation
 * the client already gave up on must not be made twice), reconnection in the background with
 * backoff. A failure follows the policy: fail_open admits without limits (and without headers),
 * fail_closed refuses with `limits_unavailable`; either way the log says so once per outage, and
 * once more when Redis is back.
 *
 * Concurrency slots are leases with an expiry, renewed by the relay holding them every leaseMs/3,
 * so the slots of a relay that crashed free themselves within leaseMs.
 */

export type RedisPolicy = 'fail_open' | 'fail_closed';

export interface RedisLimiterOptions {
  readonly url: string;
  readonly policy: RedisPolicy;
  /** Per-command timeout in ms (default 250). */
  readonly timeoutMs?: number;
  readonly log: Logger;
  /** Key prefix (default "relay:limits:"). */
  readonly prefix?: string;
  /** How long a concurrency slot outlives a relay that stopped renewing it, ms (default 60000). */
  readonly leaseMs?: number;
  /** The clock, in ms; by default Redis' own (TIME), the same for every relay. For tests. */
  readonly now?: () => number;
}

export interface RedisLimiter extends Limiter {
  /** Resolves once connected; rejects after `timeoutMs` (default 5000) if not. */
  ready(timeoutMs?: number): Promise<void>;
}

const VERDICTS: readonly Verdict['kind'][] = ['ok', 'budget', 'rpm', 'tpm', 'tpm_too_large', 'concurrency'];

/** A fresh object each time: callers may add to its headers. */
const open = (): Admitted => ({ ok: true, headers: [], settle: () => undefined, release: () => undefined });

export function createRedisLimiter(options: RedisLimiterOptions): RedisLimiter {
  const { policy, log } = options;
  const timeoutMs = options.timeoutMs ?? 250;
  const prefix = options.prefix ?? 'relay:limits:';
  const leaseMs = options.leaseMs ?? 60_000;
  const clock = options.now;

  const { Redis } = loadDriver<{ Redis: typeof RedisClient }>('ioredis');
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    connectTimeout: Math.max(1000, timeoutMs * 4),
    disconnectTimeout: Math.max(100, timeoutMs),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
  });

  let down = false;
  const markDown = (err: unknown): void => {
    if (down) return;
    down = true;
    const effect = policy === 'fail_open' ? 'requests are admitted without limits' : 'requests with limits are refused (503)';
    log.warn({ policy, err: errorMessage(err) }, `limits: Redis is unreachable; ${effect} until it is back (${policy})`);
  };
  const markUp = (): void => {
    if (!down) return;
    down = false;
    log.info({ policy }, 'limits: Redis recovered; limits are enforced again');
  };
  client.on('error', markDown);
  client.on('ready', () => {
    markUp();
    // Load the scripts once per connection, so the first EVALSHA after a restart does not miss.
    for (const s of [ACQUIRE, SETTLE, RENEW]) client.script('LOAD', s.source).catch(() => undefined);
  });

  const run = async (s: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => {
    try {
      return await client.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await client.eval(s.source, keys.length, ...keys, ...args);
    }
  };
  const nowArg = (): string => (clock === undefined ? '' : String(Math.floor(clock())));
  const keysOf = (name: string) => {
    const base = `${prefix}{${encodeURIComponent(name)}}:`;
    return { rpm: `${base}rpm`, tpm: `${base}tpm`, conc: `${base}conc`, budget: `${base}budget` };
  };

  /** lease id → its conc key, for the renewal timer. */
  const leases = new Map<string, string>();
  const renew = (): void => {
    const byKey = new Map<string, string[]>();
    for (const [lease, key] of leases) byKey.set(key, [...(byKey.get(key) ?? []), lease]);
    for (const [key, ids] of byKey) run(RENEW, [key], [nowArg(), leaseMs, ...ids]).catch(markDown);
  };
  const timer = setInterval(renew, Math.max(10, Math.floor(leaseMs / 3)));
  timer.unref();

  const acquire = async (raw: AcquireRequest): Promise<Admission> => {
    const req = normalizeRequest(raw);
    const { rpm, tpm, max_concurrency: maxConcurrency, budget } = req.limits;
    if (isUnlimited(req.limits)) return open();
    const keys = keysOf(req.key);
    const lease = maxConcurrency === undefined ? '' : randomUUID();
    let reply: AcquireReply;
    try {
      reply = toAcquireReply(
        await run(ACQUIRE, [keys.rpm, keys.tpm, keys.conc, keys.budget], [
          nowArg(), rpm ?? 0, tpm ?? 0, maxConcurrency ?? 0,
          budget === undefined ? 0 : budgetLimit(budget), budget?.period ?? '',
          req.tokens, budget === undefined ? 0 : budgetAmount(budget, req),
          lease, leaseMs,
        ]),
      );
    } catch (err) {
      markDown(err);
      return policy === 'fail_open' ? open() : toUnavailable();
    }
    markUp();

    const snapshot = toSnapshot(req.limits, reply);
    if (reply.verdict !== 'ok') {
      return toRefusal(req, toVerdict(reply), snapshot, waitOf(req, reply));
    }
    if (lease !== '') leases.set(lease, keys.conc);

    let settled = false;
    let released = false;
    return {
      ok: true,
      headers: toRateLimitHeaders(snapshot),
      settle(actual) {
        if (settled) return;
        settled = true;
        const delta = usageDelta(req, actual);
        const tokenDelta = tpm === undefined ? 0 : delta.tokens;
        const budgetDelta = budget === undefined ? 0 : budget.tokens !== undefined ? delta.tokens : delta.cost;
        if (tokenDelta === 0 && budgetDelta === 0) return;
        run(SETTLE, [keys.tpm, keys.budget], [nowArg(), tpm ?? 0, tokenDelta, reply.period, budgetDelta]).catch(markDown);
      },
      release() {
        if (released || lease === '') return;
        released = true;
        leases.delete(lease);
        client.zrem(keys.conc, lease).catch(markDown);
      },
    };
  };

  return {
    acquire,
    async close() {
      clearInterval(timer);
      try {
        // QUIT lets settle/release calls already sent finish first.
        await client.quit();
      } catch {
        // Not connected, or Redis stalled: drop the connection.
        client.disconnect();
      }
    },
    ready(waitMs = 5000) {
      if (client.status === 'ready') return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onReady = (): void => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          client.off('ready', onReady);
          reject(new Error(`Redis not reachable within ${waitMs} ms`));
        }, waitMs);
        client.once('ready', onReady);
      });
    },
  };
}

interface AcquireReply {
  readonly verdict: Verdict['kind'];
  readonly rpmLevel: number;
  readonly tpmLevel: number;
  readonly inFlight: number;
  readonly used: number;
  readonly period: string;
  readonly resetAt: number;
  readonly now: number;
}

/** Narrows the script's reply; anything else is a failure (and follows the policy). */
function toAcquireReply(value: unknown): AcquireReply {
  if (!Array.isArray(value) || value.length !== 8) throw new Error('unexpected reply from the limits script');
  const [verdict, rpmLevel, tpmLevel, inFlight, used, period, resetAt, now] = value as unknown[];
  const kind = typeof verdict === 'number' ? VERDICTS[verdict] : undefined;
  const nums = [rpmLevel, tpmLevel, used].map((v) => (typeof v === 'string' ? Number(v) : NaN));
  if (kind === undefined || nums.some((n) => !Number.isFinite(n)) || typeof inFlight !== 'number' || typeof period !== 'string' || typeof resetAt !== 'number' || typeof now !== 'number') {
    throw new Error('unexpected reply from the limits script');
  }
  return { verdict: kind, rpmLevel: nums[0] ?? 0, tpmLevel: nums[1] ?? 0, inFlight, used: nums[2] ?? 0, period, resetAt, now };
}

function toSnapshot(limits: KeyLimits, reply: AcquireReply): RateSnapshot {
  return {
    requests: limits.rpm === undefined ? undefined : toBucketView(reply.rpmLevel, limits.rpm),
    tokens: limits.tpm === undefined ? undefined : toBucketView(reply.tpmLevel, limits.tpm),
  };
}

function toVerdict(reply: AcquireReply): Exclude<Verdict, { kind: 'ok' }> {
  switch (reply.verdict) {
    case 'budget':
      return { kind: 'budget', used: reply.used, resetAt: reply.resetAt };
    case 'concurrency':
      return { kind: 'concurrency', inFlight: reply.inFlight };
    case 'rpm':
    case 'tpm':
    case 'tpm_too_large':
      return { kind: reply.verdict };
    case 'ok':
      throw new Error('an admitted request has no refusal');
  }
}

function waitOf(req: AcquireRequest, reply: AcquireReply): number {
  const { rpm, tpm } = req.limits;
  switch (reply.verdict) {
    case 'budget':
      return reply.resetAt - reply.now;
    case 'rpm':
      return waitFor(reply.rpmLevel, 1, rpm ?? 1);
    case 'tpm':
      return waitFor(reply.tpmLevel, Math.max(req.tokens, 1), tpm ?? 1);
    case 'tpm_too_large':
      return TOO_LARGE_WAIT_MS;
    default:
      return 1000;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
