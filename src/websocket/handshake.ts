import type { IncomingHttpHeaders } from 'node:http';
import { RelayError } from '../errors.js';
import { toUpstreamHeaders, type ClientConnection, type RequestHeaderPolicy } from '../proxy/headers.js';
import type { ModelResolver } from '../proxy/model-policy.js';
import { toUpstreamPath, type Target } from '../proxy/target.js';

/**
 * Pure decisions about a WebSocket handshake (RFC 6455 §4): is it one, is it well-formed, where it
 * goes, which headers and subprotocols travel upstream, and which model the query names.
 */

/** Browser clients cannot set headers on a WebSocket, so OpenAI accepts the key as this subprotocol. */
export const API_KEY_PROTOCOL_PREFIX = 'openai-insecure-api-key.';

/** The handshake fields ws sets itself on each side: never copied from the client's request. */
const HANDSHAKE_HEADERS = ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept'];

/** RFC 7230 token characters: what a subprotocol name may contain (RFC 6455 §4.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CLIENT_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** A WebSocket opening handshake: GET with `Upgrade: websocket` (other upgrades, e.g. h2c, are plain HTTP to us). */
export function isWebSocketUpgrade(method: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (method !== 'GET') return false;
  const upgrade = headers.upgrade;
  return typeof upgrade === 'string' && upgrade.split(',').some((t) => t.trim().toLowerCase() === 'websocket');
}

/** Checks what the relay's side of the handshake needs, before anything is opened upstream. Throws RelayError `bad_request`. */
export function checkClientHandshake(headers: IncomingHttpHeaders): void {
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !CLIENT_KEY.test(key.trim())) {
    throw new RelayError('bad_request', 'The WebSocket handshake has a missing or invalid Sec-WebSocket-Key.');
  }
  const version = headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    throw new RelayError('bad_request', 'The WebSocket handshake has a missing or unsupported Sec-WebSocket-Version (13 is supported).');
  }
}

/** The offered subprotocols, in order. Throws RelayError `bad_request` on a malformed or duplicated entry. */
export function parseSubprotocols(header: string | undefined): string[] {
  if (header === undefined || header.trim() === '') return [];
  const out: string[] = [];
  for (const part of header.split(',')) {
    const name = part.trim();
    if (!TOKEN.test(name) || out.includes(name)) {
      throw new RelayError('bad_request', 'The WebSocket handshake has an invalid Sec-WebSocket-Protocol header.');
    }
    out.push(name);
  }
  return out;
}

/** The keys carried as `openai-insecure-api-key.<key>` subprotocols. */
export function toSubprotocolKeys(protocols: readonly string[]): string[] {
  return protocols.filter(isKeyProtocol).map((p) => p.slice(API_KEY_PROTOCOL_PREFIX.length)).filter((k) => k !== '');
}

/**
 * The subprotocols offered upstream: with a backend key every key-carrying entry is removed (the
 * backend sees only the relay's key); without one they pass, except the entry that carried a relay
 * access key. Every other subprotocol (`realtime`, `openai-beta.…`) is kept, in order.
 */
export function toUpstreamProtocols(protocols: readonly string[], options: { dropKeys: boolean; accessProtocol: string | undefined }): string[] {
  return protocols.filter((p) => p !== options.accessProtocol && !(options.dropKeys && isKeyProtocol(p)));
}

function isKeyProtocol(protocol: string): boolean {
  return protocol.startsWith(API_KEY_PROTOCOL_PREFIX);
}

/** The backend's WebSocket URL: base_url's scheme as ws/wss, its origin, the same path rule as HTTP. */
export function toUpstreamUrl(origin: string, basePath: string, target: Target): string {
  const scheme = origin.startsWith('https:') ? 'wss:' : 'ws:';
  return scheme + origin.slice(origin.indexOf('//')) + toUpstreamPath(basePath, target);
}

export interface QueryModelEdit {
  readonly query: string;
  readonly asked: string | undefined;
  readonly sent: string | undefined;
}

/**
 * Rewrites the `model` query parameter surgically: every other byte of the query is kept. Like a
 * JSON body, the query leaves with at most one `model`, the last one, resolved. No `model`, nothing
 * changes (`?call_id=` sideband connections name none).
 */
export function rewriteQueryModel(query: string, resolve: ModelResolver): QueryModelEdit {
  if (query.length < 2) return { query, asked: undefined, sent: undefined };
  const params = query.slice(1).split('&');
  const at: number[] = [];
  for (let i = 0; i < params.length; i++) if (paramName(params[i] as string) === 'model') at.push(i);
  const last = at[at.length - 1];
  if (last === undefined) return { query, asked: undefined, sent: undefined };

  const raw = params[last] as string;
  const eq = raw.indexOf('=');
  const asked = eq === -1 ? '' : decodeParam(raw.slice(eq + 1));
  const sent = resolve(asked) ?? asked;
  if (sent === asked && at.length === 1) return { query, asked, sent };
  if (sent !== asked) params[last] = `${raw.slice(0, eq === -1 ? raw.length : eq)}=${encodeURIComponent(sent)}`;
  const kept = params.filter((_, i) => i === last || !at.includes(i));
  return { query: `?${kept.join('&')}`, asked, sent };
}

function paramName(param: string): string {
  const eq = param.indexOf('=');
  return decodeParam(eq === -1 ? param : param.slice(0, eq));
}

/** application/x-www-form-urlencoded decoding, as servers read queries; a broken escape is kept literally. */
function decodeParam(value: string): string {
  const spaced = value.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

export interface HandshakeHeaderEdits {
  /** The header that carried a relay access key: it never travels upstream. */
  readonly accessHeader: string | undefined;
  /** Flat [name, value, …] to add (x-request-id). */
  readonly add: readonly string[];
  readonly client: ClientConnection | undefined;
}

/**
 * The upstream handshake's headers: the HTTP relay's policy (hop-by-hop removed, client credentials
 * dropped and the backend key injected when one is set, client-identity headers unless configured)
 * minus the handshake fields ws writes itself. As an object, because that is what ws takes;
 * repeated fields are joined as RFC 9110 §5.3 allows (cookies with `; `).
 */
export function toHandshakeHeaders(rawHeaders: readonly string[], policy: RequestHeaderPolicy, edits: HandshakeHeaderEdits): Record<string, string> {
  const flat = toUpstreamHeaders(rawHeaders, policy, {
    contentLength: undefined,
    alsoDrop: [...HANDSHAKE_HEADERS, edits.accessHeader],
    add: edits.add,
    client: edits.client,
  });
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < flat.length; i += 2) {
    const name = (flat[i] as string).toLowerCase();
    const value = flat[i + 1] as string;
    const previous = out[name];
    out[name] = previous === undefined ? value : `${previous}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}
