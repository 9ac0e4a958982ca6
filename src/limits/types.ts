/**
 * The limiter contract (issue 5). A limiter admits or refuses one request for one client key, in
 * one call, before anything reaches a backend: rpm and tpm (token buckets over 60 s), concurrency
 * (requests in flight) and a budget per UTC day or month (tokens or USD). The admission carries
 * the OpenAI-style `x-ratelimit-*` headers; settle() replaces the token/cost estimate with what
 * the response really used, release() ends the in-flight slot. Both are idempotent and never throw.
 */

export type BudgetPeriod = 'day' | 'month';

/** Exactly one of tokens / cost (USD) is meant to be set; tokens wins if both are. */
export interface BudgetLimit {
  readonly tokens?: number;
  readonly cost?: number;
  readonly period: BudgetPeriod;
}

/** A client key's limits; ClientKeySpec fits this shape as is. */
export interface KeyLimits {
  readonly rpm?: number;
  readonly tpm?: number;
  readonly max_concurrency?: number;
  readonly budget?: BudgetLimit;
}

export interface AcquireRequest {
  /** The key's name (never the key). */
  readonly key: string;
  readonly limits: KeyLimits;
  /** Tokens to reserve now (see estimate.ts); settle() corrects it. */
  readonly tokens: number;
  /** Estimated cost in USD to reserve against a cost budget; 0 when unknown. */
  readonly cost: number;
}

export interface ActualUsage {
  readonly tokens: number;
  /** USD; null when the price is unknown (the reserved estimate then stands). */
  readonly cost: number | null;
}

export interface Admitted {
  readonly ok: true;
  /** Flat [name, value, …] response headers (x-ratelimit-*); empty when no rate is configured. */
  readonly headers: string[];
  /** Replaces the reserved estimate with the actual usage. Idempotent; never throws. */
  settle(actual: ActualUsage): void;
  /** Frees the in-flight slot; call when the response ends, however it ends. Idempotent; never throws. */
  release(): void;
}

/** Over a limit: 429 in OpenAI's shape (`error.type` = type, `error.code` = code). */
export interface Refused {
  readonly ok: false;
  readonly status: 429;
  readonly code: 'rate_limit_exceeded' | 'insufficient_quota';
  readonly type: 'requests' | 'tokens' | 'insufficient_quota';
  readonly message: string;
  /** Whole seconds, at least 1. */
  readonly retryAfter: number;
  /** x-ratelimit-* plus retry-after and retry-after-ms. */
  readonly headers: string[];
}

/** The shared limit store is unreachable and the policy is fail_closed: map to 503 `limits_unavailable`. */
export interface Unavailable {
  readonly ok: false;
  readonly status: 503;
  readonly code: 'limits_unavailable';
  readonly type: 'api_error';
  readonly message: string;
  readonly retryAfter: number;
  readonly headers: string[];
}

export type Admission = Admitted | Refused | Unavailable;

export interface Limiter {
  acquire(req: AcquireRequest): Promise<Admission>;
  close(): Promise<void>;
}

/** What a limit check saw, for headers and messages. Absent parts are not configured. */
export interface RateSnapshot {
  readonly requests?: BucketView;
  readonly tokens?: BucketView;
}

export interface BucketView {
  readonly limit: number;
  /** Whole units left (never negative). */
  readonly remaining: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
}

/** Why a request was refused; shared by the memory and the Redis limiter. */
export type Verdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'budget'; readonly used: number; readonly resetAt: number }
  | { readonly kind: 'rpm' }
  | { readonly kind: 'tpm' }
  | { readonly kind: 'tpm_too_large' }
  | { readonly kind: 'concurrency'; readonly inFlight: number };
