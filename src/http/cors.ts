/**
 * CORS, answered by the relay itself (preflights never reach the backend). Decided once from
 * server.cors: `true` (any origin, the seed's behaviour), `false` (no CORS headers), or a list of origins.
 */

export interface CorsConfig {
  readonly origins: readonly string[];
  readonly max_age: number;
}

export interface CorsPolicy {
  readonly enabled: boolean;
  /** Flat [name, value, …] for an actual response to a request from `origin`. */
  responseHeaders(origin: string | undefined): readonly string[];
  /** Flat headers for a preflight answer. */
  preflightHeaders(origin: string | undefined, requestHeaders: string | undefined): readonly string[];
}

/** Headers a browser app may read: our request id and timing, and OpenAI's rate-limit and processing headers. */
export const EXPOSED_HEADERS = [
  'x-request-id',
  'x-upstream-request-id',
  'x-relay-backend',
  'x-relay-attempts',
  'x-relay-upstream-model',
  'server-timing',
  'retry-after',
  'openai-organization',
  'openai-processing-ms',
  'openai-version',
  'openai-model',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
].join(', ');

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const DEFAULT_ALLOWED_HEADERS = 'authorization, content-type, api-key, x-api-key, openai-organization, openai-project, openai-beta, x-request-id, x-stainless-*';
const NONE: readonly string[] = [];

export function createCorsPolicy(config: boolean | CorsConfig): CorsPolicy {
  if (config === false) {
    return { enabled: false, responseHeaders: () => NONE, preflightHeaders: () => NONE };
  }
  const origins = config === true ? ['*'] : config.origins;
  const maxAge = String(config === true ? 600 : config.max_age);
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  const anyResponse = ['access-control-allow-origin', '*', 'access-control-expose-headers', EXPOSED_HEADERS];

  const allowOrigin = (origin: string | undefined): string | undefined => {
    if (anyOrigin) return '*';
    return origin !== undefined && allowed.has(origin.toLowerCase()) ? origin : undefined;
  };

  return {
    enabled: true,
    responseHeaders(origin) {
      if (anyOrigin) return anyResponse;
      const allow = allowOrigin(origin);
      return allow === undefined ? ['vary', 'origin'] : ['access-control-allow-origin', allow, 'access-control-expose-headers', EXPOSED_HEADERS, 'vary', 'origin'];
    },
    preflightHeaders(origin, requestHeaders) {
      const allow = allowOrigin(origin);
      if (allow === undefined) return anyOrigin ? NONE : ['vary', 'origin'];
      const out = [
        'access-control-allow-origin', allow,
        'access-control-allow-methods', ALLOWED_METHODS,
        'access-control-allow-headers', requestHeaders ?? DEFAULT_ALLOWED_HEADERS,
        'access-control-max-age', maxAge,
      ];
      if (!anyOrigin) out.push('vary', 'origin, access-control-request-headers');
      else out.push('vary', 'access-control-request-headers');
      return out;
    },
  };
}
