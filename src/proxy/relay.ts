import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RelayContext } from '../context.js';
import type { Exchange } from '../http/exchange.js';
import { routeRequest } from '../routing/route.js';
import { RequestUsage } from '../usage/accounting.js';
import { requestStreamUsage } from '../usage/stream-options.js';
import { admit } from './admission.js';
import { sendWithRetries } from './attempts.js';
import { answerModels, isModelsRequest } from './models.js';
import { rewriteModelPath } from './model-path.js';
import { prepareBody } from './request-body.js';
import { parseTarget } from './target.js';

/**
 * The relay handler: orchestration only. Target → body (model read, kept for retries) → route
 * (which backends may serve it) → tries (proxy/attempts.ts) → response streamed back. Every
 * decision lives in a pure module; every failure is thrown and turned into a status by the caller
 * (http/routes.ts) through upstream/classify.ts.
 */
export async function relay(ctx: RelayContext, req: IncomingMessage, res: ServerResponse, ex: Exchange): Promise<void> {
  const parsed = parseTarget(req.url ?? '/');
  ex.path = parsed.apiPath;
  if (ctx.catalog !== undefined && isModelsRequest(req.method, parsed.apiPath)) {
    await answerModels(ctx.catalog, res, ex, parsed.apiPath);
    return;
  }
  const target = rewriteModelPath(parsed, req.method, ctx.resolveModel, ex);
  if (ctx.usage.active) ex.usage = new RequestUsage(ctx.usage);

  const prepared = await prepareBody(req, {
    readModel: ctx.readModel,
    resolve: ctx.resolveModel,
    maxBodySize: ctx.config.request.max_body_size,
    replayable: ctx.replayable,
    spoolAbove: ctx.config.request.spool_above,
  });
  ex.spool = prepared.spool;
  if (prepared.asked !== undefined || prepared.sent !== undefined) {
    ex.asked = prepared.asked;
    ex.sent = prepared.sent;
  }
  if (prepared.multipart) ex.lateModel = prepared.multipart;
  if (Buffer.isBuffer(prepared.body)) ex.bytesIn = prepared.body.length;
  else if (prepared.contentLength !== undefined) ex.bytesIn = prepared.contentLength;

  const tiers = routeRequest(ctx.routes, ex.sent, target.apiPath);
  const json = Buffer.isBuffer(prepared.body) ? prepared.body : null;
  await admit(ctx, ex, json, json !== null);
  // Streamed chat completions report their usage only when asked: the relay asks (and hides the answer).
  const withUsage = ex.usage !== undefined && json !== null && prepared.streams === true && STREAM_USAGE_PATHS.has(target.apiPath) ? requestStreamUsage(json) : undefined;
  await sendWithRetries(ctx, req, res, ex, {
    target,
    prepared,
    model: ex.sent,
    tiers,
    withUsage: withUsage?.injected === true ? withUsage.body : undefined,
  });
}

const STREAM_USAGE_PATHS: ReadonlySet<string> = new Set(['/chat/completions', '/completions']);

