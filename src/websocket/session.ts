import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { enterInflight, leaveInflight, type RelayContext } from '../context.js';
import { toRequestId } from '../http/request-id.js';
import type { RelayError } from '../errors.js';
import type { BridgeStats } from './bridge.js';

/**
 * One WebSocket session's life, from the handshake to the last close: its request id, the model
 * asked and sent, counted in `inflight` (so a graceful shutdown waits for it), and the one
 * access-log line written when it ends.
 */
export class WsSession {
  /** The client's x-request-id when valid, else a new one: sent upstream, returned, logged. */
  readonly id: string;
  readonly start = performance.now();
  path = '';
  asked: string | undefined;
  sent: string | undefined;
  rewritten = false;
  accessKey: string | undefined;
  protocol: string | undefined;
  /** The handshake's answer: 101, a relay error's status, or the backend's refusal. */
  status = 0;
  error: RelayError | undefined;
  clientGone = false;
  /** The backend the session was routed to. */
  backend: string | undefined;
  upstreamStart = 0;
  upstreamOpen = 0;
  stats: BridgeStats | undefined;

  readonly #ctx: RelayContext;
  readonly #req: IncomingMessage;
  #ended = false;

  constructor(ctx: RelayContext, req: IncomingMessage) {
    this.#ctx = ctx;
    this.#req = req;
    this.id = toRequestId(req.headers);
    enterInflight(ctx.state);
  }

  /** Records a model naming (the query's, then any session.update's): the log shows the latest. */
  noteModel(asked: string | undefined, sent: string | undefined): void {
    this.asked = asked;
    this.sent = sent;
    if (asked !== sent) this.rewritten = true;
  }

  /** Idempotent: the session leaves `inflight` and writes its log line once. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#writeLog();
    leaveInflight(this.#ctx.state);
  }

  #writeLog(): void {
    const s = this.stats;
    const status = this.clientGone && this.status === 0 ? 499 : this.status;
    const outcome = this.error?.code ?? (this.clientGone && this.status === 0 ? 'client_closed_request' : 'ok');
    const level = status >= 500 ? 'warn' : 'info';
    this.#ctx.log[level](
      {
        request_id: this.id,
        method: 'GET',
        path: this.path || (this.#req.url ?? '').split('?')[0],
        status,
        outcome,
        subprotocol: this.protocol,
        model: this.asked,
        model_sent: this.sent,
        model_rewritten: this.rewritten,
        frames_in: s?.framesIn ?? 0,
        frames_out: s?.framesOut ?? 0,
        bytes_in: s?.bytesIn ?? 0,
        bytes_out: s?.bytesOut ?? 0,
        close_code: s?.closeCode,
        closed_by: s?.closedBy,
        ws_error: s?.error,
        upstream_ms: this.upstreamOpen === 0 ? undefined : round(this.upstreamOpen - this.upstreamStart),
        duration_ms: round(performance.now() - this.start),
        backend: this.upstreamStart === 0 ? undefined : this.backend,
        access_key: this.accessKey,
      },
      'websocket',
    );
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
