import type { ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { RelayContext } from '../context.js';
import { RelayError } from '../errors.js';
import type { Exchange } from '../http/exchange.js';
import { toStreamErrorEvent } from '../http/respond.js';
import type { UpstreamCall } from '../upstream/call.js';
import { classifyUpstreamError } from '../upstream/classify.js';
import { isEventStream, toClientHeaders } from './headers.js';
import { rewriteJsonModel } from './model-rewrite.js';
import { JSON_TYPE } from './request-body.js';
import { SseModelRewriter } from './sse-model.js';

/** When echo_alias is on and the name changed: the response says the name the client asked for. */
export interface EchoAlias {
  readonly asked: string;
  readonly sent: string;
}

/**
 * Sends the backend's response on: status, headers and body verbatim (hop-by-hop removed, the
 * relay's id, timing and CORS added). The body streams with backpressure; an event stream is
 * flagged so that no proxy in front buffers it. A body the backend breaks is never made to look
 * complete: an SSE stream gets an error event and is cut, any other body is cut.
 */
export async function forwardResponse(ctx: RelayContext, res: ServerResponse, ex: Exchange, up: UpstreamCall, echo: EchoAlias | undefined): Promise<void> {
  const contentType = up.headers['content-type'];
  ex.stream = isEventStream(contentType);
  const rewriteJson = echo !== undefined && !ex.stream && typeof contentType === 'string' && JSON_TYPE.test(contentType);
  const add = [...ex.baseHeaders, ...ex.routeHeaders()];
  if (ex.stream) add.push('x-accel-buffering', 'no');
  if (echo !== undefined) add.push('x-relay-upstream-model', echo.sent);

  if (rewriteJson) {
    const body = await readAll(up.readable(), ctx.config.request.max_body_size);
    ex.usage?.readJson(body);
    const edited = rewriteJsonModel(body, () => echo.asked, false).body;
    add.push('content-length', String(edited.length), 'server-timing', ex.serverTiming());
    res.writeHead(up.statusCode, toClientHeaders(up.headers, clientHeaderOptions(ctx, true), add));
    res.end(edited);
    return;
  }

  const transform = echo !== undefined && ex.stream ? new SseModelRewriter(() => echo.asked) : undefined;
  // Usage is read as the body passes: an event stream through the tap (which also removes what the
  // relay alone asked for), any other body by a listener beside the pipe.
  const tap = ex.usage !== undefined && ex.stream ? ex.usage.tapStream() : undefined;
  const watch = ex.usage !== undefined && tap === undefined && typeof contentType === 'string' && JSON_TYPE.test(contentType) ? ex.usage.watchJson() : undefined;
  add.push('server-timing', ex.serverTiming());
  res.writeHead(up.statusCode, toClientHeaders(up.headers, clientHeaderOptions(ctx, transform !== undefined || (tap !== undefined && ex.usage?.injected === true)), add));
  if (transform === undefined) {
    // Bytes pass (through the usage tap, if any): straight from the backend's socket to the client's, no stream in between.
    pumpDirect(up, res, ex, watch, tap);
    return;
  }
  let source: Readable = up.readable();
  if (tap !== undefined) source = pipeline(source, tap, () => undefined);
  source = pipeline(source, transform, () => undefined);
  pump(source, res, ex);
}

function clientHeaderOptions(ctx: RelayContext, dropLength: boolean) {
  return { stripCors: ctx.cors.enabled, dropLength, upstreamIdHeader: 'x-upstream-request-id' };
}

/** The backend's body → res, chunk by chunk: a full client buffer pauses the backend until 'drain'. */
function pumpDirect(up: UpstreamCall, res: ServerResponse, ex: Exchange, watch: ((chunk: Buffer | null) => void) | undefined, tap: ChunkTap | undefined): void {
  up.attach({
    write(chunk) {
      if (res.destroyed) return false;
      watch?.(chunk);
      const out = tap === undefined ? chunk : tap.process(chunk);
      if (out === undefined || res.write(out)) return true;
      res.once('drain', up.resume);
      return false;
    },
    end() {
      watch?.(null);
      const rest = tap?.finish();
      if (rest !== undefined) res.write(rest);
      res.end();
    },
    error: (err) => breakOff(err, res, ex),
  });
}

/** Edits a body chunk by chunk as it passes (the SSE usage tap). */
interface ChunkTap {
  process(chunk: Buffer): Buffer | undefined;
  finish(): Buffer | undefined;
}

/** source → res with backpressure (a body that goes through transforms). */
function pump(source: Readable, res: ServerResponse, ex: Exchange): void {
  ex.source = source;
  source.once('error', (err: unknown) => {
    source.unpipe(res);
    breakOff(err, res, ex);
  });
  source.pipe(res);
}

/** A body the backend breaks is never made to look complete: an event stream gets an error event, then both are cut. */
function breakOff(err: unknown, res: ServerResponse, ex: Exchange): void {
  if (ex.clientGone || res.destroyed) return;
  const failure = classifyUpstreamError(err, false);
  ex.error = failure;
  if (ex.stream) res.write(toStreamErrorEvent(failure), () => res.destroy());
  else res.destroy();
}

function readAll(body: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        body.destroy();
        reject(new RelayError('upstream_response_too_large'));
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve(Buffer.concat(chunks, size)));
    body.once('error', reject);
  });
}
