/**
 * Retry timing, pure. Backoff is exponential with full jitter (AWS's "full jitter": a random wait
 * between 0 and base·2^(n-1), capped), so retries from many clients do not line up.
 */
export function backoffMs(retry: number, baseSeconds: number, maxSeconds: number, random: () => number): number {
  const ceiling = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, retry - 1)) * 1000;
  return Math.round(random() * ceiling);
}

/**
 * The wait a response asks for, in ms: `retry-after-ms` (OpenAI's), else `retry-after` as seconds or
 * an HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, nowMs: number): number | undefined {
  const ms = single(headers['retry-after-ms']);
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const after = single(headers['retry-after']);
  if (after === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(after)) return Math.ceil(Number(after) * 1000);
  // Only the HTTP date form (RFC 9110 §5.6.7): Date.parse alone reads "-5" or "in 5" as dates.
  if (!HTTP_DATE.test(after.trim())) return undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

const HTTP_DATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
