import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
  flattenHead(res);
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

/**
 * Node keeps a response's head (`res._header`) for as long as the response lives, as the tree of
 * pieces `writeHead` concatenated (about 50 strings, 1.6 KB for an event stream's head), and
 * writing it does not flatten it. Reading one character makes V8 flatten it in place: one string
 * of about 300 bytes, which the write then uses as it is. With 5,000 open streams that is about
 * 7 MB less (issue 3, C's peak RSS); for a short response it costs nothing the write would not.
 */
function flattenHead(res: ServerResponse): void {
  const head: unknown = Reflect.get(res, '_header');
  if (typeof head === 'string' && head.length > 0) head.charCodeAt(0);
}

function clientHeaderOptions(ctx: RelayContext, dropLength: boolean) {
  return { stripCors: ctx.cors.enabled, dropLength, upstreamIdHeader: 'x-upstream-request-id' };
}

/** The backend's body → res, chunk by chunk: a full client buffer pauses the backend until 'drain'. */
function pumpDirect(up: UpstreamCall, res: ServerResponse, ex: Exchange, watch: ((chunk: Buffer | null) => void) | undefined, tap: ChunkTap | undefined): void {
  const out = new ChunkWriter(res);
  up.attach({
    write(chunk) {
      if (res.destroyed) return false;
      watch?.(chunk);
      const piece = tap === undefined ? chunk : tap.process(chunk);
      if (piece === undefined || out.write(piece)) return true;
      out.onDrain(up.resume);
      return false;
    },
    end() {
      watch?.(null);
      const rest = tap?.finish();
      if (rest !== undefined) out.write(rest);
      res.end();
    },
    error: (err) => breakOff(err, res, ex),
  });
}

/** Above this, a chunk is written as its own buffer (no copy) between the framing pieces. */
const COPY_LIMIT = 16 * 1024;
const CRLF = Buffer.from('\r\n');

/**
 * Writes a chunked response body (issue 3, scenario C). The first chunk goes through `res.write`,
 * which sends the head with it. After that, when Node frames the body as chunked and the socket is
 * the response's own, each chunk is framed here and written to the socket as one buffer: one
 * write per chunk instead of `res.write`'s four buffered writes, cork and next-tick uncork (about
 * 3 µs of JavaScript per chunk; the write syscall itself, about 8 µs, remains). The end (`res.end()`, the `0` chunk) and
 * anything else still go through `res`, after these bytes. A body with a length, an HTTP/1.0
 * client and a response still queued behind another (pipelining) keep `res.write` throughout.
 */
export class ChunkWriter {
  readonly #res: ServerResponse;
  #socket: Socket | null = null;
  #started = false;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    const socket = this.#socket;
    if (socket === null) {
      const ok = this.#res.write(chunk);
      if (!this.#started) {
        this.#started = true;
        const own = this.#res.socket;
        if (this.#res.chunkedEncoding && own !== null && own.writable) this.#socket = own;
      }
      return ok;
    }
    if (socket.destroyed) return false;
    const size = chunk.length.toString(16);
    if (chunk.length > COPY_LIMIT) {
      socket.cork();
      socket.write(`${size}\r\n`, 'latin1');
      socket.write(chunk);
      const ok = socket.write(CRLF);
      socket.uncork();
      return ok;
    }
    const framed = Buffer.allocUnsafe(size.length + chunk.length + 4);
    let at = framed.write(size, 0, 'latin1');
    framed[at++] = 13;
    framed[at++] = 10;
    at += chunk.copy(framed, at);
    framed[at++] = 13;
    framed[at] = 10;
    return socket.write(framed);
  }

  /** Calls `resume` once the client's side can take more (after `write` returned false). */
  onDrain(resume: () => void): void {
    if (this.#socket !== null) this.#socket.once('drain', resume);
    else this.#res.once('drain', resume);
  }
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
