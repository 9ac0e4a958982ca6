import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { RelayContext } from '../context.js';
import type { UpstreamPlan } from './plan.js';

/**
 * The two WebSocket endpoints the relay is, each configured once. Both sides: no permessage-deflate
 * (each side would be compressed separately: CPU and ~300 KB of zlib state per session for nothing
 * on audio), no automatic pongs (pings are forwarded end to end by the bridge), one message bounded
 * by request.max_body_size.
 */

/** How the client's 101 is answered: the subprotocol the backend chose, and lines to add. */
export interface ClientAnswer {
  readonly protocol: string | false;
  readonly headers: readonly string[];
}

/** Completes client handshakes. `done` is not called when ws gives up on the socket (it is destroyed, and says so with 'close'). */
export type AcceptClient = (req: IncomingMessage, socket: Socket, head: Buffer, answer: ClientAnswer, done: (client: WebSocket) => void) => void;

export function createClientAcceptor(ctx: RelayContext): AcceptClient {
  const answers = new WeakMap<IncomingMessage, ClientAnswer>();
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    autoPong: false,
    maxPayload: ctx.config.request.max_body_size,
    handleProtocols: (_offered, req) => answers.get(req)?.protocol ?? false,
  });
  wss.on('headers', (headers, req) => {
    for (const line of answers.get(req)?.headers ?? []) headers.push(line);
  });
  return (req, socket, head, answer, done) => {
    answers.set(req, answer);
    wss.handleUpgrade(req, socket, head, (client) => {
      answers.delete(req);
      done(client);
    });
  };
}

/** Opens the upstream side; the handshake is bounded by request.connect_timeout. Redirects are never followed. */
export function connectUpstream(ctx: RelayContext, plan: UpstreamPlan): WebSocket {
  return new WebSocket(plan.url, plan.protocols, {
    headers: plan.headers,
    perMessageDeflate: false,
    autoPong: false,
    followRedirects: false,
    handshakeTimeout: ctx.config.request.connect_timeout * 1000,
    maxPayload: ctx.config.request.max_body_size,
  });
}

/** The subprotocol the backend chose (false: none). */
export function toChosenProtocol(headers: IncomingHttpHeaders): string | false {
  return headers['sec-websocket-protocol'] ?? false;
}
