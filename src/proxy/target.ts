import { RelayError } from '../errors.js';

/**
 * Where a request goes: always the backend's base path plus the request's path, never anywhere else.
 * The host is fixed by the upstream pool (its origin), so only the path is decided here, and no
 * request target can leave the base path: absolute-form targets are refused, dot-segments in any
 * spelling (`..`, `%2e%2e`, `.%2E`, `..;param`, behind an encoded slash or backslash) are refused, and repeated
 * slashes are folded so an inner `//` stays a path.
 */

/** The path prefix every request is appended to: base_url's path, plus `/v1` unless it already ends in a version. */
export function toBasePath(baseUrl: string): string {
  const path = new URL(baseUrl).pathname.replace(/\/+$/, '');
  return /\/v\d+[a-z0-9]*$/i.test(path) ? path : `${path}/v1`;
}

export interface Target {
  /** The API path without the `/v1` prefix, e.g. `/chat/completions`: what routing decisions read. */
  readonly apiPath: string;
  /** `?…` or ''. */
  readonly query: string;
}

/** Parses the raw request target (`req.url`). Throws RelayError `invalid_path`. */
export function parseTarget(rawUrl: string): Target {
  // `//host/…` is how a scheme-relative URL starts: refused like absolute-form, never read as a path.
  if (rawUrl.charCodeAt(0) !== 47 /* / */ || rawUrl.charCodeAt(1) === 47) {
    throw new RelayError('invalid_path', 'The request target must be a path (origin-form).');
  }
  const q = rawUrl.indexOf('?');
  let path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);
  if (path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  if (hasDotSegment(path)) throw new RelayError('invalid_path', 'The request path may not contain "." or ".." segments.');
  if (path === '/v1' || path.startsWith('/v1/')) path = path.slice(3);
  return { apiPath: path === '' ? '/' : path, query };
}

/** The path sent upstream for a target. */
export function toUpstreamPath(basePath: string, target: Target): string {
  return basePath + (target.apiPath === '/' ? '' : target.apiPath) + target.query;
}

function hasDotSegment(path: string): boolean {
  if (!path.includes('.') && !/%2e/i.test(path)) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new RelayError('invalid_path', 'The request path has an invalid percent-encoding.');
  }
  for (const segment of decoded.split(/[/\\]/)) {
    // `..;jsessionid=x` is `..` to servlet-style backends, which drop path parameters before resolving.
    const name = segment.includes(';') ? segment.slice(0, segment.indexOf(';')) : segment;
    if (name === '.' || name === '..') return true;
  }
  return false;
}
