import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { enterInflight, leaveInflight, type RelayContext } from '../context.js';
import type { ClientGrant } from '../auth/client-keys.js';
import type { RelayError } from '../errors.js';
import type { RequestUsage } from '../usage/accounting.js';
import { toRequestId } from './request-id.js';

/**
 * One request's life: its id, its cancellation (one AbortController: client gone → upstream
 * aborted), its timings, and the one access-log line written when the response closes.
 */
export class Exchange {
  readonly id: string;
  readonly start = performance.now();
  readonly baseHeaders: readonly string[];
  path = '';
  asked: string | undefined;
  sent: string | undefined;
  stream = false;
  clientGone = false;
  error: RelayError | undefined;
  /**
   * An error Node's server answered for this request itself (a body stalled past
   * server.request_timeout: 408): what the client got, so what the log and the usage record say.
   */
  answered: RelayError | undefined;
  accessKey: string | undefined;
  /** The client key that let the request in (auth.keys), with its limits. */
  grant: ClientGrant | undefined;
  /** Usage accounting of this request, when it is on. */
  usage: RequestUsage | undefined;
  /** x-ratelimit-* headers of the key's limits, sent with the response. */
  limitHeaders: readonly string[] = [];
  accessHeader: string | undefined;
  upstreamStart = 0;
  upstreamHeaders = 0;
  headWritten = 0;
  bytesIn: number | undefined;
  /** The response body being relayed (when it goes through streams), torn down if the client leaves. */
  source: Readable | undefined;
  /** The backend request in flight, cancelled if the client leaves. */
  call: { cancel(reason: Error): void } | undefined;
  #abortController: AbortController | undefined;
  /** The backend that answered (or was tried last), and how many tries the request took. */
  backend: string | undefined;
  attempts = 0;
  /** Statuses or error codes of tries that were retried, for the log. */
  retried: (number | string)[] | undefined;
  /** A body kept for retries: removed when the request ends. */
  spool: { dispose(): void } | undefined;
  /** Read when the log line is written (for bodies whose model is known only after they passed). */
  lateModel: { asked: string | undefined; sent: string | undefined } | undefined;

  readonly #ctx: RelayContext;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #socket: Socket;
  readonly #bytesOutAtStart: number;
  #ends: (() => void)[] | undefined;

  constructor(ctx: RelayContext, req: IncomingMessage, res: ServerResponse) {
    this.#ctx = ctx;
    this.#req = req;
    this.#res = res;
    this.#socket = req.socket;
    this.#bytesOutAtStart = req.socket.bytesWritten;
    this.id = toRequestId(req.headers);
    const cors = ctx.cors.responseHeaders(req.headers.origin);
    this.baseHeaders = ctx.state.shuttingDown ? ['x-request-id', this.id, ...cors, 'connection', 'close'] : ['x-request-id', this.id, ...cors];
    enterInflight(ctx.state);
    OPEN.set(this.#socket, this);
    res.once('close', this.#onClose);
  }

  /** Whether the response head has gone out. */
  get responseStarted(): boolean {
    return this.#res.headersSent;
  }

  /** Aborted when the client leaves (made on first use: most requests never wait on anything cancellable). */
  get signal(): AbortSignal {
    this.#abortController ??= new AbortController();
    if (this.clientGone) this.#abortController.abort();
    return this.#abortController.signal;
  }

  /** `relay;dur=` is the relay's own time (before the upstream call and after its headers), `upstream;dur=` the backend's time to headers. */
  serverTiming(): string {
    const now = performance.now();
    this.headWritten = now;
    // No backend answered (or none was asked): all of it is the relay's.
    if (this.upstreamHeaders <= this.upstreamStart) return `relay;dur=${(now - this.start).toFixed(3)}`;
    const relay = this.upstreamStart - this.start + (now - this.upstreamHeaders);
    return `relay;dur=${relay.toFixed(3)}, upstream;dur=${(this.upstreamHeaders - this.upstreamStart).toFixed(3)}`;
  }

  /** `x-relay-backend` and `x-relay-attempts`, once a backend was tried. */
  routeHeaders(): string[] {
    const route = this.backend === undefined ? [] : ['x-relay-backend', this.backend, 'x-relay-attempts', String(this.attempts)];
    return this.limitHeaders.length === 0 ? route : [...route, ...this.limitHeaders];
  }

  /** Runs once when the response is over (after the log line). */
  onEnd(fn: () => void): void {
    (this.#ends ??= []).push(fn);
  }

  readonly #onClose = (): void => {
    if (OPEN.get(this.#socket) === this) OPEN.delete(this.#socket);
    this.spool?.dispose();
    if (!this.#res.writableFinished) {
      this.clientGone = true;
      this.#abortController?.abort();
      this.call?.cancel(CLIENT_GONE);
      this.source?.destroy();
    }
    this.#writeLog();
    this.#finishUsage();
    if (this.#ends !== undefined) for (const fn of this.#ends) fn();
    leaveInflight(this.#ctx.state);
  };

  #finishUsage(): void {
    const usage = this.usage;
    if (usage === undefined) return;
    const res = this.#res;
    usage.finish({
      requestId: this.id,
      endpoint: this.path,
      grant: this.grant,
      asked: this.lateModel?.asked ?? this.asked,
      sent: this.lateModel?.sent ?? this.sent,
      backend: this.backend,
      status: this.#clientStatus(this.error?.status ?? res.statusCode),
      stream: this.stream,
      clientGone: this.clientGone,
      start: this.start,
      headWritten: this.headWritten,
      end: performance.now(),
    });
  }

  /**
   * The status the client got: the response head's; else the answer Node's server gave itself
   * (answered); else 499 when the client left first; else `unsent`.
   */
  #clientStatus(unsent: number): number {
    const res = this.#res;
    return res.headersSent ? res.statusCode : (this.answered?.status ?? (this.clientGone ? 499 : unsent));
  }

  #writeLog(): void {
    const res = this.#res;
    const end = performance.now();
    const asked = this.lateModel?.asked ?? this.asked;
    const sent = this.lateModel?.sent ?? this.sent;
    const status = this.#clientStatus(res.statusCode);
    const outcome = this.answered?.code ?? this.error?.code ?? (this.clientGone ? 'client_closed_request' : 'ok');
    const level = status >= 500 || (this.error !== undefined && this.error.status >= 500) ? 'warn' : 'info';
    this.#ctx.log[level](
      {
        request_id: this.id,
        method: this.#req.method,
        path: this.path || (this.#req.url ?? '').split('?')[0],
        status,
        outcome,
        model: asked,
        model_sent: sent,
        model_rewritten: asked === undefined ? undefined : asked !== sent,
        stream: this.stream,
        bytes_in: this.bytesIn,
        bytes_out: this.#socket.bytesWritten - this.#bytesOutAtStart,
        ttfb_ms: this.headWritten === 0 ? undefined : round(this.headWritten - this.start),
        upstream_ms: this.upstreamHeaders === 0 ? undefined : round(this.upstreamHeaders - this.upstreamStart),
        duration_ms: round(end - this.start),
        backend: this.backend,
        attempts: this.attempts === 0 ? undefined : this.attempts,
        retried: this.retried,
        access_key: this.accessKey,
      },
      'request',
    );
  }
}

/** The request each client connection is on, while it is (Node serves one at a time per connection). */
const OPEN = new WeakMap<Socket, Exchange>();

/** The request in flight on a client connection, if any (for answers Node's server gives itself). */
export function exchangeOn(socket: Socket): Exchange | undefined {
  return OPEN.get(socket);
}

const CLIENT_GONE = Object.assign(new Error('the client closed the request'), { name: 'AbortError' });

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
