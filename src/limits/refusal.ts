import { WINDOW_MS } from './bucket.js';
import { formatDuration, toRateLimitHeaders, toRetryAfterHeaders, toRetryAfterSeconds } from './headers.js';
import type { AcquireRequest, RateSnapshot, Refused, Unavailable, Verdict } from './types.js';

/**
 * Turns a limiter's verdict into the 429 the client sees, with messages modelled on OpenAI's
 * ("Rate limit reached for … on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try
 * again in 20s."). Shared by the memory and the Redis limiter so both refuse in the same words.
 */
export function toRefusal(req: AcquireRequest, verdict: Exclude<Verdict, { kind: 'ok' }>, snapshot: RateSnapshot, waitMs: number): Refused {
  const wait = Math.max(1, waitMs);
  // A spent budget or a request larger than the whole tpm will not pass by retrying soon: the SDKs
  // (which retry a 429 after retry-after-ms, however long) are told not to.
  const final = verdict.kind === 'budget' || verdict.kind === 'tpm_too_large';
  const headers = [...toRateLimitHeaders(snapshot), ...toRetryAfterHeaders(wait), ...(final ? ['x-should-retry', 'false'] : [])];
  const base = { ok: false, status: 429, retryAfter: toRetryAfterSeconds(wait), headers } as const;
  const name = req.key;
  switch (verdict.kind) {
    case 'rpm': {
      const limit = req.limits.rpm ?? 0;
      const used = limit - (snapshot.requests?.remaining ?? 0);
      return {
        ...base, code: 'rate_limit_exceeded', type: 'requests',
        message: `Rate limit reached for key ${name} on requests per min (RPM): Limit ${limit}, Used ${used}, Requested 1. Please try again in ${formatDuration(wait)}.`,
      };
    }
    case 'tpm': {
      const limit = req.limits.tpm ?? 0;
      const used = limit - (snapshot.tokens?.remaining ?? 0);
      return {
        ...base, code: 'rate_limit_exceeded', type: 'tokens',
        message: `Rate limit reached for key ${name} on tokens per min (TPM): Limit ${limit}, Used ${used}, Requested ${req.tokens}. Please try again in ${formatDuration(wait)}.`,
      };
    }
    case 'tpm_too_large':
      return {
        ...base, code: 'rate_limit_exceeded', type: 'tokens',
        message: `Request too large for key ${name} on tokens per min (TPM): Limit ${req.limits.tpm ?? 0}, Requested ${req.tokens}. Reduce the input or max_tokens to run this request.`,
      };
    case 'concurrency':
      return {
        ...base, code: 'rate_limit_exceeded', type: 'requests',
        message: `Too many concurrent requests for key ${name}: Limit ${req.limits.max_concurrency ?? 0}, In flight ${verdict.inFlight}. Please try again when one has finished.`,
      };
    case 'budget': {
      const budget = req.limits.budget;
      const period = budget?.period === 'month' ? 'monthly' : 'daily';
      const byTokens = budget?.tokens !== undefined;
      const limit = (byTokens ? budget?.tokens : budget?.cost) ?? 0;
      const amount = byTokens ? req.tokens : req.cost;
      const spent = byTokens ? `${Math.round(verdict.used)} of ${limit} tokens used` : `$${formatUsd(verdict.used)} of $${formatUsd(limit)} used`;
      const needs = verdict.used < limit ? ` and this request needs about ${byTokens ? `${amount} tokens` : `$${formatUsd(amount)}`}` : '';
      return {
        ...base, code: 'insufficient_quota', type: 'insufficient_quota',
        message: `You exceeded this key's ${period} ${byTokens ? 'token' : 'cost'} budget: ${spent}${needs}. It renews at ${new Date(verdict.resetAt).toISOString()}.`,
      };
    }
  }
}

/** fail_closed while the shared store is unreachable. */
export function toUnavailable(): Unavailable {
  return {
    ok: false, status: 503, code: 'limits_unavailable', type: 'api_error', retryAfter: 1,
    message: 'Rate limits cannot be checked right now (the shared limit store is unreachable). Please try again shortly.',
    headers: toRetryAfterHeaders(1000),
  };
}

/** How long until a request too large for the tpm bucket could be retried: never, so one window. */
export const TOO_LARGE_WAIT_MS = WINDOW_MS;

function formatUsd(v: number): string {
  return String(Number(v.toPrecision(6)));
}
