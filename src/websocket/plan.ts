import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AccessCheck } from '../auth/access-keys.js';
import type { RelayContext } from '../context.js';
import { toClientHeaders } from '../proxy/headers.js';
import { parseTarget } from '../proxy/target.js';
import {
  API_KEY_PROTOCOL_PREFIX,
  checkClientHandshake,
  parseSubprotocols,
  rewriteQueryModel,
  toHandshakeHeaders,
  toSubprotocolKeys,
  toUpstreamProtocols,
  toUpstreamUrl,
} from './handshake.js';
import type { WsSession } from './session.js';

/** What the upstream handshake is made of. */
export interface UpstreamPlan {
  readonly url: string;
  readonly protocols: string[];
  readonly headers: Record<string, string>;
}

/**
 * Decides the upstream handshake from the client's, in the HTTP relay's order: access first (in a
 * header or, for browsers, a subprotocol), then the handshake's own validity, then the path (same
 * `/v1` rule and confinement as HTTP), the query's model, the headers and subprotocols. Throws
 * RelayError (400, 401); nothing has been opened upstream yet.
 */
export function planUpstream(ctx: RelayContext, req: IncomingMessage, session: WsSession): UpstreamPlan {
  const offered = parseSubprotocols(req.headers['sec-websocket-protocol']);
  const access = authorize(ctx.checkAccess, req.headers, offered);
  session.accessKey = access.key;
  checkClientHandshake(req.headers);
  const target = parseTarget(req.url ?? '/');
  session.path = target.apiPath;
  const query = rewriteQueryModel(target.query, ctx.resolveModel);
  if (query.asked !== undefined) session.noteModel(query.asked, query.sent);
  return {
    url: toUpstreamUrl(ctx.upstream.origin, ctx.upstream.basePath, { apiPath: target.apiPath, query: query.query }),
    protocols: toUpstreamProtocols(offered, { dropKeys: ctx.config.backend.api_key !== '', accessProtocol: access.protocol }),
    headers: toHandshakeHeaders(req.rawHeaders, ctx.headerPolicy, {
      accessHeader: access.header,
      add: ['x-request-id', session.id],
      clientAddress: req.socket.remoteAddress,
    }),
  };
}

interface Access {
  readonly key: string | undefined;
  /** Where the relay key travelled, so that it goes no further. */
  readonly header: string | undefined;
  readonly protocol: string | undefined;
}

const OPEN: Access = { key: undefined, header: undefined, protocol: undefined };

/** auth.keys on the handshake: the same check as HTTP, and the browser form (the key as a subprotocol). */
function authorize(check: AccessCheck | undefined, headers: IncomingHttpHeaders, offered: readonly string[]): Access {
  if (check === undefined) return OPEN;
  try {
    const grant = check(headers);
    return { key: grant.key, header: grant.header, protocol: undefined };
  } catch (err) {
    for (const key of toSubprotocolKeys(offered)) {
      try {
        const grant = check({ authorization: `Bearer ${key}` });
        return { key: grant.key, header: undefined, protocol: API_KEY_PROTOCOL_PREFIX + key };
      } catch {
        // not a relay key: try the next one
      }
    }
    throw err;
  }
}

/** Lines added to the client's 101: the relay's request id and the backend's own handshake headers (minus the handshake fields). */
export function toAnswerHeaders(upstream: IncomingHttpHeaders, base: readonly string[], stripCors: boolean): string[] {
  const flat = toClientHeaders(upstream, { stripCors, dropLength: true, upstreamIdHeader: 'x-upstream-request-id' }, base);
  const lines: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    if (!name.toLowerCase().startsWith('sec-websocket-')) lines.push(`${name}: ${flat[i + 1] as string}`);
  }
  return lines;
}
