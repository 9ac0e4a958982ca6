import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isModelAllowed, type ClientGrant, type ClientKeyCheck } from '../auth/client-keys.js';
import { modelNotAllowed } from '../proxy/admission.js';
import type { RelayContext } from '../context.js';
import { routeRequest } from '../routing/route.js';
import { toClientHeaders, type RequestHeaderPolicy } from '../proxy/headers.js';
import { withQuery, type Backend } from '../upstream/backend.js';
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
  const access = authorize(ctx.checkKey, req.headers, offered);
  session.accessKey = access.key;
  checkClientHandshake(req.headers);
  const target = parseTarget(req.url ?? '/');
  session.path = target.apiPath;
  const global = rewriteQueryModel(target.query, ctx.resolveModel);
  if (access.grant !== undefined && !isModelAllowed(access.grant, global.asked)) throw modelNotAllowed(global.asked);
  const { backend, key } = chooseBackend(ctx, global.sent, target.apiPath);
  session.backend = backend.name;
  // The backend's own name for the model (its `mapping`), after the global rules.
  const query = rewriteQueryModel(target.query, (asked) => {
    const model = ctx.resolveModel(asked);
    return model === undefined ? undefined : backend.mapModel(model);
  });
  if (query.asked !== undefined) session.noteModel(query.asked, query.sent);
  const upstreamQuery = Object.keys(backend.spec.query).length === 0 ? query.query : withQuery(query.query, Object.entries(backend.spec.query));
  return {
    url: toUpstreamUrl(backend.upstream.origin, backend.upstream.basePath, { apiPath: target.apiPath, query: upstreamQuery }),
    protocols: toUpstreamProtocols(offered, { dropKeys: backend.hasKeys, accessProtocol: access.protocol }),
    headers: toHandshakeHeaders(req.rawHeaders, backend.policies[key] as RequestHeaderPolicy, {
      accessHeader: access.header,
      add: ['x-request-id', session.id],
      client: req.socket,
    }),
  };
}

/** Where a session goes: routed like an HTTP request (by the query's model, else by path), one try. */
function chooseBackend(ctx: RelayContext, model: string | undefined, apiPath: string): { backend: Backend; key: number } {
  const choice = ctx.balancer.pick(routeRequest(ctx.routes, model, apiPath), new Set());
  const backend = ctx.backends[choice?.backend ?? 0] as Backend;
  return { backend, key: choice?.key ?? 0 };
}

interface Access {
  readonly key: string | undefined;
  /** Where the relay key travelled, so that it goes no further. */
  readonly header: string | undefined;
  readonly protocol: string | undefined;
  readonly grant: ClientGrant | undefined;
}

const OPEN: Access = { key: undefined, header: undefined, protocol: undefined, grant: undefined };

/** auth.keys on the handshake: the same check as HTTP, and the browser form (the key as a subprotocol). */
function authorize(check: ClientKeyCheck | undefined, headers: IncomingHttpHeaders, offered: readonly string[]): Access {
  if (check === undefined) return OPEN;
  try {
    const grant = check(headers);
    return { key: grant.name, header: grant.header, protocol: undefined, grant };
  } catch (err) {
    for (const key of toSubprotocolKeys(offered)) {
      try {
        const grant = check({ authorization: `Bearer ${key}` });
        return { key: grant.name, header: undefined, protocol: API_KEY_PROTOCOL_PREFIX + key, grant };
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
