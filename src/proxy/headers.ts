import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1: Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding,
 * Upgrade; plus Trailer and the proxy auth fields, which concern only the next hop), and whatever
 * the Connection header names. Applied both ways.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** Headers that carry a client's credential: dropped whenever the relay injects the backend's key. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'api-key', 'x-api-key'];

/** Headers that identify the client (its address, its CDN): not sent upstream unless server.forward_client_ip. */
const CLIENT_IDENTITY_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-real-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'true-client-ip',
  'fastly-client-ip',
  'x-original-forwarded-for',
  'via',
];
const CLIENT_IDENTITY_PREFIXES = ['cf-', 'x-vercel-', 'cloudfront-'];

export interface RequestHeaderPolicy {
  readonly drop: ReadonlySet<string>;
  readonly dropPrefixes: readonly string[];
  /** Flat [name, value, …] added to every upstream request (the backend key). */
  readonly inject: readonly string[];
  readonly forwardClientIp: boolean;
}

export interface RequestHeaderPolicyOptions {
  /** The backend key to inject ('' passes the client's own credential through). */
  readonly apiKey: string;
  readonly forwardClientIp: boolean;
  /** `authorization` (default) sends `Bearer <key>`; another name (Azure's `api-key`) sends the key as is. */
  readonly keyHeader?: string;
  /** A backend's extra headers: they replace any the client sent with the same name. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** Decided once at start (one per backend key): which client headers never travel, and which the relay adds. */
export function createRequestHeaderPolicy(options: RequestHeaderPolicyOptions): RequestHeaderPolicy {
  // host is the backend's (undici sets it from the origin); expect is answered by the relay itself.
  // x-request-id: the relay's id (the client's when valid) is always the one sent, never two.
  const drop = new Set([...HOP_BY_HOP, 'host', 'expect', 'content-length', 'x-request-id']);
  const keyHeader = (options.keyHeader ?? 'authorization').toLowerCase();
  if (options.apiKey !== '') for (const name of [...CREDENTIAL_HEADERS, keyHeader]) drop.add(name);
  if (!options.forwardClientIp) for (const name of CLIENT_IDENTITY_HEADERS) drop.add(name);
  const inject: string[] = [];
  for (const [name, value] of Object.entries(options.extra ?? {})) {
    drop.add(name.toLowerCase());
    inject.push(name, value);
  }
  if (options.apiKey !== '') inject.push(keyHeader, keyHeader === 'authorization' ? `Bearer ${options.apiKey}` : options.apiKey);
  return {
    drop,
    dropPrefixes: options.forwardClientIp ? [] : CLIENT_IDENTITY_PREFIXES,
    inject,
    forwardClientIp: options.forwardClientIp,
  };
}

export interface UpstreamHeaderEdits {
  /** The body length to declare, or undefined for a streamed body of unknown length (chunked). */
  readonly contentLength: number | undefined;
  /** Extra headers to drop for this request only (e.g. the header that carried a relay access key). */
  readonly alsoDrop?: readonly (string | undefined)[];
  /** Flat [name, value, …] to add. */
  readonly add: readonly string[];
  /**
   * The client's connection, whose address goes into x-forwarded-for under server.forward_client_ip.
   * Read only then: a socket's first remoteAddress is a getpeername() system call per connection.
   */
  readonly client?: ClientConnection | undefined;
}

/** What the headers need of the client's socket. */
export interface ClientConnection {
  readonly remoteAddress?: string | undefined;
}

/** The headers the backend receives, from the client's raw headers (names' case and order kept). */
export function toUpstreamHeaders(rawHeaders: readonly string[], policy: RequestHeaderPolicy, edits: UpstreamHeaderEdits): string[] {
  const named = connectionTokens(rawHeaders);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (policy.drop.has(lower) || named?.has(lower) || isAlsoDropped(lower, edits.alsoDrop)) continue;
    if (policy.dropPrefixes.length > 0 && policy.dropPrefixes.some((p) => lower.startsWith(p))) continue;
    if (policy.forwardClientIp && lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? (rawHeaders[i + 1] as string) : `${forwardedFor}, ${rawHeaders[i + 1] as string}`;
      continue;
    }
    out.push(name, rawHeaders[i + 1] as string);
  }
  const clientAddress = policy.forwardClientIp ? edits.client?.remoteAddress : undefined;
  if (clientAddress !== undefined) {
    out.push('x-forwarded-for', forwardedFor === undefined ? clientAddress : `${forwardedFor}, ${clientAddress}`);
  }
  if (edits.contentLength !== undefined) out.push('content-length', String(edits.contentLength));
  for (const item of policy.inject) out.push(item);
  for (const item of edits.add) out.push(item);
  return out;
}

/** Header names listed in Connection (RFC 9110 §7.6.1), lower-cased; undefined when there are none worth dropping. */
function connectionTokens(rawHeaders: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).length !== 10 || (rawHeaders[i] as string).toLowerCase() !== 'connection') continue;
    for (const token of (rawHeaders[i + 1] as string).split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '' && t !== 'close' && t !== 'keep-alive') (tokens ??= new Set()).add(t);
    }
  }
  return tokens;
}

/** Response headers the relay replaces with its own when it answers CORS itself. */
const CORS_RESPONSE_PREFIX = 'access-control-';

/** The headers the client receives, from the backend's (undici lower-cases names). Flat [name, value, …]. */
export function toClientHeaders(
  upstream: IncomingHttpHeaders,
  options: { stripCors: boolean; dropLength: boolean; upstreamIdHeader: string },
  add: readonly string[],
): string[] {
  const named = upstream.connection === undefined ? undefined : connectionTokens(['connection', String(upstream.connection)]);
  const out: string[] = [];
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    if (options.stripCors && name.startsWith(CORS_RESPONSE_PREFIX)) continue;
    if (options.dropLength && name === 'content-length') continue;
    // The relay's own x-request-id is the one returned; the backend's is kept under another name.
    const outName = name === 'x-request-id' ? options.upstreamIdHeader : name;
    if (Array.isArray(value)) for (const v of value) out.push(outName, v);
    else out.push(outName, value);
  }
  for (const item of add) out.push(item);
  return out;
}

export function isEventStream(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && contentType.toLowerCase().startsWith('text/event-stream');
}

function isAlsoDropped(lower: string, alsoDrop: UpstreamHeaderEdits['alsoDrop']): boolean {
  return alsoDrop !== undefined && alsoDrop.includes(lower);
}
