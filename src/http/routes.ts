import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RelayContext } from '../context.js';
import { RelayError } from '../errors.js';
import { relay } from '../proxy/relay.js';
import { classifyUpstreamError } from '../upstream/classify.js';
import { answerAdmin, createAdminCheck, isAdminPath } from './admin.js';
import { Exchange } from './exchange.js';
import { sendError, sendJson } from './respond.js';

const HEALTH_BODY = JSON.stringify({ status: 'ok' });

/** The request listener: preflight and health are answered here, everything else is relayed. */
export function createRequestListener(ctx: RelayContext): (req: IncomingMessage, res: ServerResponse) => void {
  const adminCheck = createAdminCheck(ctx.config.admin.key);
  return (req, res) => {
    const ex = new Exchange(ctx, req, res);
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';

    if (method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      // A CORS preflight is the relay's to answer; it never reaches the backend.
      ex.path = url.split('?')[0] ?? url;
      const headers = [
        ...ex.baseHeaders.slice(0, 2),
        ...ctx.cors.preflightHeaders(req.headers.origin, req.headers['access-control-request-headers']),
        'server-timing', ex.serverTiming(),
        'content-length', '0',
      ];
      res.writeHead(204, headers);
      res.end();
      return;
    }
    if (url === '/health' || url.startsWith('/health?')) {
      ex.path = '/health';
      const headers = [...ex.baseHeaders, 'server-timing', ex.serverTiming()];
      if (method === 'GET' || method === 'HEAD') sendJson(res, 200, HEALTH_BODY, [...headers, 'cache-control', 'no-store'], method === 'HEAD');
      else sendError(res, new RelayError('method_not_allowed', 'Use GET or HEAD for /health.'), [...headers, 'allow', 'GET, HEAD']);
      return;
    }
    if (isAdminPath(url)) {
      answerAdmin(ctx, req, res, ex, adminCheck).catch((err: unknown) => fail(ctx, res, ex, err));
      return;
    }
    try {
      if (ctx.checkKey !== undefined) {
        const grant = ctx.checkKey(req.headers);
        ex.grant = grant;
        ex.accessKey = grant.name;
        ex.accessHeader = grant.header;
      }
    } catch (err) {
      fail(ctx, res, ex, err);
      return;
    }
    relay(ctx, req, res, ex).catch((err: unknown) => fail(ctx, res, ex, err));
  };
}

function fail(ctx: RelayContext, res: ServerResponse, ex: Exchange, err: unknown): void {
  const error = isBug(err) ? new RelayError('internal_error') : classifyUpstreamError(err, ex.clientGone);
  // A bug, not a transport failure: say so in the log (never with request data) and answer 500.
  if (error.code === 'internal_error') ctx.log.error({ request_id: ex.id, err }, 'unexpected error');
  ex.error = error;
  if (ex.clientGone) return;
  if (res.headersSent) res.destroy();
  else sendError(res, error, [...ex.baseHeaders, ...ex.routeHeaders(), 'server-timing', ex.serverTiming()]);
}

/** Transport errors carry a string code (ECONNREFUSED, UND_ERR_*); a TypeError from our own code does not. */
function isBug(err: unknown): boolean {
  if (err instanceof RelayError) return false;
  if (typeof err !== 'object' || err === null) return true;
  const { code, name } = err as { code?: unknown; name?: unknown };
  return typeof code !== 'string' && name !== 'AbortError';
}
