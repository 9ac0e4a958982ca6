import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RelayContext } from '../context.js';
import type { Exchange } from '../http/exchange.js';
import { toUpstreamHeaders } from './headers.js';
import { rewriteModelPath } from './model-path.js';
import { prepareBody } from './request-body.js';
import { forwardResponse, type EchoAlias } from './response.js';
import { parseTarget, toUpstreamPath } from './target.js';

/**
 * The relay handler: orchestration only. Target → body (model rewritten) → headers (key injected)
 * → upstream → response streamed back. Every decision lives in a pure module; every failure is
 * thrown and turned into a status by the caller (http/routes.ts) through upstream/classify.ts.
 */
export async function relay(ctx: RelayContext, req: IncomingMessage, res: ServerResponse, ex: Exchange): Promise<void> {
  const target = rewriteModelPath(parseTarget(req.url ?? '/'), req.method, ctx.resolveModel, ex);
  ex.path = target.apiPath;

  const prepared = await prepareBody(req, { readModel: ctx.readModel, resolve: ctx.resolveModel, maxBodySize: ctx.config.request.max_body_size });
  if (prepared.asked !== undefined || prepared.sent !== undefined) {
    ex.asked = prepared.asked;
    ex.sent = prepared.sent;
  }
  if (prepared.multipart) ex.lateModel = prepared.multipart;
  if (Buffer.isBuffer(prepared.body)) ex.bytesIn = prepared.body.length;
  else if (prepared.contentLength !== undefined) ex.bytesIn = prepared.contentLength;

  const echo: EchoAlias | undefined =
    ctx.echoAlias && ex.asked !== undefined && ex.sent !== undefined && ex.asked !== ex.sent ? { asked: ex.asked, sent: ex.sent } : undefined;
  const add: string[] = ['x-request-id', ex.id];
  if (echo !== undefined) add.push('accept-encoding', 'identity');
  const headers = toUpstreamHeaders(req.rawHeaders, ctx.headerPolicy, {
    contentLength: prepared.contentLength,
    alsoDrop: echo === undefined ? [ex.accessHeader] : [ex.accessHeader, 'accept-encoding'],
    add,
    clientAddress: req.socket.remoteAddress,
  });

  const path = toUpstreamPath(ctx.upstream.basePath, target);
  if (ctx.log.isLevelEnabled('debug')) {
    // Header names only: values may be keys.
    ctx.log.debug({ request_id: ex.id, backend: ctx.upstream.name, path, headers: headers.filter((_, i) => i % 2 === 0) }, 'upstream request');
  }
  ex.upstreamStart = performance.now();
  const up = await ctx.upstream.send({
    method: req.method ?? 'GET',
    path,
    headers,
    body: prepared.body,
    signal: ex.abort.signal,
  });
  ex.upstreamHeaders = performance.now();
  ctx.log.debug({ request_id: ex.id, status: up.statusCode, content_type: up.headers['content-type'] }, 'upstream response');
  await forwardResponse(ctx, res, ex, up, echo);
}
