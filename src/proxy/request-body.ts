import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { RelayError } from '../errors.js';
import type { ModelResolver } from './model-policy.js';
import { rewriteJsonModel } from './model-rewrite.js';
import { MultipartModelRewriter, toBoundary } from './multipart-model.js';
import { SpoolWriter, type Spool } from './spool.js';

/**
 * What the backend receives as the body. Bodies stream through untouched unless the model must be
 * read: a JSON body is then held (bounded by request.max_body_size) and edited in place; a
 * multipart body streams through a rewriter of its `model` field, of any size.
 */
export interface PreparedBody {
  readonly body: Buffer | Readable | null;
  /** Declared upstream; undefined means chunked. */
  readonly contentLength: number | undefined;
  readonly asked: string | undefined;
  readonly sent: string | undefined;
  /** For multipart, the names are known only once the body has gone through. */
  readonly multipart?: MultipartModelRewriter;
  /** A body kept for retries (then `body` is null): in memory or in a temp file. */
  readonly spool?: Spool;
  /** A spooled multipart body's boundary: its model field is rewritten as each try is sent. */
  readonly boundary?: string;
  /** Whether the body can be sent more than once. */
  readonly replayable: boolean;
  /** A JSON body that asks for a stream (`"stream": true`); false for bodies not read. */
  readonly streams?: boolean;
}

export interface BodyOptions {
  /** Whether the model must be read at all (a rewrite, echo_alias or routing needs it). */
  readonly readModel: boolean;
  readonly resolve: ModelResolver;
  readonly maxBodySize: number;
  /** Keep the body so that it can be sent again (retries are on). */
  readonly replayable: boolean;
  /** Bodies kept for retries stay in memory up to this size, and go to a temp file above it. */
  readonly spoolAbove: number;
}

/** `application/json` and `application/…+json`, in either direction. */
export const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\b/i;
const LOOSE_TYPE = /^(?:application\/x-www-form-urlencoded|text\/plain)\b/i;
const MULTIPART_TYPE = /^multipart\/form-data\b/i;

export async function prepareBody(req: IncomingMessage, options: BodyOptions): Promise<PreparedBody> {
  const lengthHeader = req.headers['content-length'];
  const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (declared === undefined || declared === 0)) {
    return { body: null, contentLength: declared, asked: undefined, sent: undefined, replayable: true };
  }
  const type = req.headers['content-type'] ?? '';
  const encoding = req.headers['content-encoding'];
  // A compressed body is not read: its model cannot be seen without inflating it, so it passes as sent.
  if (options.readModel && (encoding === undefined || encoding === 'identity')) {
    const strictJson = JSON_TYPE.test(type);
    if (strictJson || type === '' || LOOSE_TYPE.test(type)) {
      if (declared !== undefined && declared > options.maxBodySize) throw tooLarge(options.maxBodySize);
      const edit = rewriteJsonModel(await readBody(req, options.maxBodySize), options.resolve, strictJson);
      return { body: edit.body, contentLength: edit.body.length, asked: edit.asked, sent: edit.sent, replayable: true, streams: edit.streams };
    }
    const boundary = MULTIPART_TYPE.test(type) ? toBoundary(type) : undefined;
    if (boundary !== undefined && options.replayable) {
      if (declared !== undefined && declared > options.maxBodySize) throw tooLarge(options.maxBodySize);
      // Kept as sent (the scan only reads the model); each try rewrites it for its backend.
      const scan = new MultipartModelRewriter(boundary, (asked) => asked);
      const spool = await keep(req, options, scan);
      const asked = scan.asked;
      return { body: null, spool, boundary, contentLength: spool.length, asked, sent: options.resolve(asked), replayable: true };
    }
    if (boundary !== undefined) {
      const rewriter = new MultipartModelRewriter(boundary, options.resolve);
      // The edited length is unknown until the model field has passed: the body goes chunked.
      pipeline(req, rewriter, () => undefined);
      return { body: rewriter, contentLength: undefined, asked: undefined, sent: undefined, multipart: rewriter, replayable: false };
    }
  }
  // Above max_body_size a body that routing need not read streams through once, without retries.
  if (options.replayable && (declared === undefined || declared <= options.maxBodySize)) {
    const spool = await keep(req, options, undefined);
    return { body: null, spool, contentLength: spool.length, asked: undefined, sent: undefined, replayable: true };
  }
  return { body: req, contentLength: chunked ? undefined : declared, asked: undefined, sent: undefined, replayable: false };
}

/** The whole body into a spool (memory, then a temp file), optionally through a scanner. Rejects 413 / 499 / 400. */
async function keep(req: IncomingMessage, options: BodyOptions, scan: MultipartModelRewriter | undefined): Promise<Spool> {
  const writer = new SpoolWriter({ memoryLimit: options.spoolAbove, maxSize: options.maxBodySize });
  try {
    if (scan === undefined) await pipelineAsync(req, writer);
    else await pipelineAsync(req, scan, writer);
  } catch (err) {
    writer.destroy();
    if (err instanceof RelayError) throw err;
    if (req.destroyed && !req.complete) throw new RelayError('client_closed_request');
    throw err;
  }
  return writer.spool();
}

function tooLarge(limit: number): RelayError {
  return new RelayError('request_too_large', `The request body is larger than request.max_body_size (${limit} bytes).`);
}

/** Collects a body up to `limit` bytes. Rejects with 413 past it, 499 when the client leaves. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onClose = (): void => {
      cleanup();
      reject(new RelayError('client_closed_request'));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onClose);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onClose);
    req.on('close', onClose);
  });
}
