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

export const ZERO_USAGE: UsageFigures = Object.freeze({
  prompt_tokens: 0,
  completion_tokens: 0,
  cached_tokens: 0,
  reasoning_tokens: 0,
  total_tokens: 0,
});
