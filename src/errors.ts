/**
 * The one error catalog. Every relay-made error is a RelayError built from a catalog entry, and is
 * written by http/respond.ts in OpenAI's shape: {"error":{"message","type","code","param"}}.
 * Upstream errors are never wrapped: they pass through verbatim (they are already OpenAI's).
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  // OpenAI's own types for 429s: which limit was hit, or an exhausted quota.
  | 'requests'
  | 'tokens'
  | 'insufficient_quota';

interface CatalogEntry {
  readonly status: number;
  readonly type: ErrorType;
  readonly message: string;
}

const CATALOG = {
  invalid_json: { status: 400, type: 'invalid_request_error', message: 'The request body is not valid JSON.' },
  invalid_path: { status: 400, type: 'invalid_request_error', message: 'The request path is not allowed.' },
  invalid_multipart: { status: 400, type: 'invalid_request_error', message: 'The multipart/form-data body is malformed.' },
  bad_request: { status: 400, type: 'invalid_request_error', message: 'The request could not be parsed.' },
  request_too_large: { status: 413, type: 'invalid_request_error', message: 'The request body is too large.' },
  headers_too_large: { status: 431, type: 'invalid_request_error', message: 'The request headers are too large.' },
  request_timeout: { status: 408, type: 'invalid_request_error', message: 'The request was not received in time.' },
  invalid_api_key: { status: 401, type: 'authentication_error', message: 'Incorrect or missing API key for this relay.' },
  method_not_allowed: { status: 405, type: 'invalid_request_error', message: 'Method not allowed.' },
  not_found: { status: 404, type: 'invalid_request_error', message: 'Unknown endpoint.' },
  model_not_allowed: { status: 403, type: 'permission_error', message: 'This key may not use this model.' },
  rate_limit_exceeded: { status: 429, type: 'requests', message: 'Rate limit reached for this key.' },
  insufficient_quota: { status: 429, type: 'insufficient_quota', message: 'This key has used up its budget.' },
  limits_unavailable: { status: 503, type: 'api_error', message: 'Rate limits cannot be checked right now.' },
  model_not_found: { status: 404, type: 'invalid_request_error', message: 'The model does not exist or no backend of this relay serves it.' },
  upstream_unreachable: { status: 502, type: 'api_error', message: 'The backend could not be reached.' },
  upstream_connection_error: { status: 502, type: 'api_error', message: 'The connection to the backend failed.' },
  upstream_connect_timeout: { status: 504, type: 'timeout_error', message: 'Connecting to the backend timed out.' },
  upstream_timeout: { status: 504, type: 'timeout_error', message: 'The backend did not respond in time.' },
  upstream_response_too_large: { status: 502, type: 'api_error', message: 'The backend response is too large to rewrite.' },
  client_closed_request: { status: 499, type: 'invalid_request_error', message: 'The client closed the request.' },
  shutting_down: { status: 503, type: 'api_error', message: 'The relay is shutting down.' },
  internal_error: { status: 500, type: 'api_error', message: 'The relay failed unexpectedly.' },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof CATALOG;

export class RelayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: ErrorCode;
  readonly param: string | null;
  /** Flat [name, value, …] sent with the error (retry-after, x-ratelimit-*). */
  readonly headers: readonly string[];

  constructor(code: ErrorCode, message?: string, options?: { param?: string; cause?: unknown; type?: ErrorType; headers?: readonly string[] }) {
    const entry: CatalogEntry = CATALOG[code];
    super(message ?? entry.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelayError';
    this.status = entry.status;
    this.type = options?.type ?? entry.type;
    this.code = code;
    this.param = options?.param ?? null;
    this.headers = options?.headers ?? [];
  }
}

export function isRelayError(err: unknown): err is RelayError {
  return err instanceof RelayError;
}

/** The JSON body OpenAI's clients understand. Built with JSON.stringify: never by concatenation. */
export function toErrorBody(err: RelayError): string {
  return JSON.stringify({ error: { message: err.message, type: err.type, code: err.code, param: err.param } });
}
