import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { destroy, parseHeaders } from 'undici/lib/core/util.js';

/** Where a response body goes, chunk by chunk. `write` returning false pauses the backend until `resume`. */
export interface BodySink {
  write(chunk: Buffer): boolean;
  end(): void;
  error(err: Error): void;
}

/**
 * One request to a backend, as an undici dispatch handler (issue 3: no Readable, no promise chain,
 * no AbortSignal per request). The response head resolves `head`; the body is held back (the
 * parser paused) until a sink is attached, then flows into it with backpressure: a sink that
 * cannot take more pauses the socket, and `resume()` lets it go on.
 */
export class UpstreamCall {
  statusCode = 0;
  #rawHeaders: Buffer[] = [];
  #headers: IncomingHttpHeaders | undefined;
  readonly head: Promise<UpstreamCall>;
  #settle: ((call: UpstreamCall) => void) | undefined;
  #fail: ((err: Error) => void) | undefined;
  #abort: ((err: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #sink: BodySink | undefined;
  /** Chunks that came before a sink (undici holds the body back at the head, so normally none). */
  #early: Buffer[] | undefined;
  #done = false;
  #error: Error | undefined;
  #cancelled: Error | undefined;
  /** A streamed request body, destroyed when the request fails (a Buffer is not kept: one-shot-body.ts). */
  readonly #body: Readable | undefined;

  constructor(body: unknown) {
    this.#body = body instanceof Readable ? body : undefined;
    this.head = new Promise((resolve, reject) => {
      this.#settle = resolve;
      this.#fail = reject;
    });
  }

  get headers(): IncomingHttpHeaders {
    if (this.#headers === undefined) {
      this.#headers = parseHeaders(this.#rawHeaders);
      // The raw name/value Buffers are not needed again; a stream can stay open for minutes.
      this.#rawHeaders = [];
    }
    return this.#headers;
  }

  /** Gives up on the request (the client left, or the answer is not wanted). */
  cancel(reason: Error): void {
    if (this.#done) return;
    this.#cancelled = reason;
    this.#abort?.(reason);
  }

  /** Sends the body on into `sink`. */
  attach(sink: BodySink): void {
    this.#sink = sink;
    const early = this.#early;
    this.#early = undefined;
    if (early !== undefined) for (const chunk of early) sink.write(chunk);
    if (this.#error !== undefined) sink.error(this.#error);
    else if (this.#done) sink.end();
    else this.resume();
  }

  /** The sink can take more: the backend's bytes flow again. */
  readonly resume = (): void => {
    this.#resume?.();
  };

  /** The body as a Readable (for transforms and whole reads). */
  readable(): Readable {
    const stream = new Readable({
      read: () => this.resume(),
      destroy: (err, callback) => {
        if (!this.#done) this.cancel(err ?? new Error('the response body was not wanted'));
        callback(err);
      },
    });
    this.attach({ write: (chunk) => stream.push(chunk), end: () => stream.push(null), error: (err) => stream.destroy(err) });
    return stream;
  }

  /** Not wanted (a retried answer): a small body is read off so the connection is kept, a large one is dropped. */
  discard(limit = 64 * 1024): void {
    let size = 0;
    this.attach({
      write: (chunk) => {
        size += chunk.length;
        if (size > limit) this.cancel(new Error('discarded'));
        return true;
      },
      end: () => undefined,
      error: () => undefined,
    });
  }

  // undici's dispatch handler (the legacy interface it calls directly).

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#cancelled !== undefined) abort(this.#cancelled);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    this.statusCode = statusCode;
    this.#rawHeaders = rawHeaders;
    this.#resume = resume;
    this.#settle?.(this);
    this.#settle = undefined;
    this.#fail = undefined;
    // Paused until the relay decides what to do with the answer (forward it, or retry elsewhere).
    return false;
  }

  onData(chunk: Buffer): boolean {
    if (this.#sink !== undefined) return this.#sink.write(chunk);
    (this.#early ??= []).push(chunk);
    return false;
  }

  onComplete(): void {
    this.#done = true;
    this.#sink?.end();
  }

  onError(err: Error): void {
    this.#done = true;
    const body = this.#body;
    if (body !== undefined && !body.destroyed) {
      body.on('error', () => undefined);
      destroy(body, err);
    }
    if (this.#fail !== undefined) {
      const fail = this.#fail;
      this.#settle = undefined;
      this.#fail = undefined;
      fail(err);
      return;
    }
    this.#error = err;
    this.#sink?.error(err);
  }
}
