/**
 * The shape of one usage record: what a finished request cost (issue 5). Records are plain data,
 * built by the request path and written off it, in batches, by a UsageStore.
 */

/** Token counts as the backend reported them, normalised across endpoint shapes. */
export interface UsageFigures {
  /** Input tokens (chat `prompt_tokens`, Responses `input_tokens`); cached tokens included. */
  readonly prompt_tokens: number;
  /** Output tokens (chat `completion_tokens`, Responses `output_tokens`); reasoning tokens included. */
  readonly completion_tokens: number;
  /** The part of `prompt_tokens` served from the provider's prompt cache. */
  readonly cached_tokens: number;
  /** The part of `completion_tokens` spent on reasoning. */
  readonly reasoning_tokens: number;
  readonly total_tokens: number;
}

export interface UsageRecord {
  /** When the request started, as an ISO 8601 string (`Date#toISOString()`). */
  readonly time: string;
  readonly request_id: string;
  /** The client key's configured name; never the key itself. */
  readonly key_name: string | null;
  /** The API path without the base, e.g. `/chat/completions`. */
  readonly endpoint: string;
  /** The model the client named (null when the request named none). */
  readonly model_asked: string | null;
  /** The model the backend received (null when the request named none). */
  readonly model_sent: string | null;
  readonly backend: string | null;
  /** The HTTP status the client received (499 when it left first). */
  readonly status: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cached_tokens: number;
  readonly reasoning_tokens: number;
  readonly total_tokens: number;
  /** Milliseconds from the request's start to the first generated token of a stream. */
  readonly ttft_ms: number | null;
  readonly duration_ms: number;
  /** USD from the price table; null when the model has no price. */
  readonly cost: number | null;
  readonly stream: boolean;
  /** The stream ended before its end marker (client left or backend broke off). */
  readonly aborted: boolean;
}

/**
 * The token members of one `usage` object as read, before they are normalised: each a count, or
 * undefined when absent or not a non-negative number. Both readers of usage (the JSON.parse one
 * and the byte reader) fill this in and leave the rules to figuresFromCounts.
 */
export interface UsageCounts {
  readonly prompt_tokens: number | undefined;
  readonly completion_tokens: number | undefined;
  readonly total_tokens: number | undefined;
  readonly input_tokens: number | undefined;
  readonly output_tokens: number | undefined;
  /** DeepSeek reports cache hits beside the totals. */
  readonly prompt_cache_hit_tokens: number | undefined;
  /** `prompt_tokens_details.cached_tokens`. */
  readonly prompt_cached: number | undefined;
  /** `input_tokens_details.cached_tokens`. */
  readonly input_cached: number | undefined;
  /** `completion_tokens_details.reasoning_tokens`. */
  readonly completion_reasoning: number | undefined;
  /** `output_tokens_details.reasoning_tokens`. */
  readonly output_reasoning: number | undefined;
}

/** Figures from a usage object's counts, whatever the endpoint's names; undefined when it has none of the totals. */
export function figuresFromCounts(u: UsageCounts): UsageFigures | undefined {
  const completion = u.completion_tokens ?? u.output_tokens;
  const total = u.total_tokens;
  let prompt = u.prompt_tokens ?? u.input_tokens;
  if (prompt === undefined && completion === undefined && total === undefined) return undefined;
  if (prompt === undefined && total !== undefined) prompt = Math.max(0, total - (completion ?? 0));
  const p = prompt ?? 0;
  const c = completion ?? 0;
  return {
    prompt_tokens: p,
    completion_tokens: c,
    cached_tokens: u.prompt_cached ?? u.input_cached ?? u.prompt_cache_hit_tokens ?? 0,
    reasoning_tokens: u.completion_reasoning ?? u.output_reasoning ?? 0,
    total_tokens: total ?? p + c,
  };
}

export const ZERO_USAGE: UsageFigures = Object.freeze({
  prompt_tokens: 0,
  completion_tokens: 0,
  cached_tokens: 0,
  reasoning_tokens: 0,
  total_tokens: 0,
});
