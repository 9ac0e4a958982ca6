import type { RateSnapshot } from './types.js';

/**
 * Rate-limit response headers as OpenAI sends them (x-ratelimit-limit-requests, …-remaining-…,
 * …-reset-… and the -tokens trio), each trio only when that limit is configured, plus retry-after
 * on refusals. Pure formatting: the limiters decide the numbers.
 */

/** Flat [name, value, …] x-ratelimit-* headers for what is configured. */
export function toRateLimitHeaders(snapshot: RateSnapshot): string[] {
  const out: string[] = [];
  const { requests, tokens } = snapshot;
  if (requests !== undefined) {
    out.push(
      'x-ratelimit-limit-requests', String(requests.limit),
      'x-ratelimit-remaining-requests', String(requests.remaining),
      'x-ratelimit-reset-requests', formatDuration(requests.resetMs),
    );
  }
  if (tokens !== undefined) {
    out.push(
      'x-ratelimit-limit-tokens', String(tokens.limit),
      'x-ratelimit-remaining-tokens', String(tokens.remaining),
      'x-ratelimit-reset-tokens', formatDuration(tokens.resetMs),
    );
  }
  return out;
}

/**
 * `retry-after` in whole seconds (RFC 9110 §10.2.3; at least 1, so a client never retries at once)
 * and `retry-after-ms`, which the openai SDKs read first for a precise wait.
 */
export function toRetryAfterHeaders(waitMs: number): string[] {
  return ['retry-after', String(toRetryAfterSeconds(waitMs)), 'retry-after-ms', String(Math.max(1, Math.ceil(waitMs)))];
}

export function toRetryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/**
 * A duration the way OpenAI's reset headers spell it (Go's time.Duration format, to the
 * millisecond): "0s", "20ms", "1s", "59.9s", "6m0s", "1h2m3.5s".
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  const whole = Math.floor(millis / 1000);
  const fraction = millis % 1000;
  const seconds = fraction === 0 ? `${whole}` : `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
