import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { RelayContext } from '../context.js';
import { RelayError } from '../errors.js';
import { isIdentityPolicy } from '../proxy/model-policy.js';
import { bridge } from './bridge.js';
import { toRelayError } from './classify.js';
import { handBackToHttp, isRelayAnswered } from './fallback.js';
import { isWebSocketUpgrade } from './handshake.js';
import { planUpstream, toAnswerHeaders } from './plan.js';
import { writeErrorResponse, writeRefusal } from './reply.js';
import { rewriteSessionModel } from './session-update.js';
import { WsSession } from './session.js';

export type UpgradeHandler = (this: Server, req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** How the client's 101 is answered: the subprotocol the backend chose and the headers to add. */
interface Answer {
  readonly protocol: string | false;
  readonly headers: readonly string[];
}

/**
 * The 'upgrade' listener (issue 6). A WebSocket handshake is relayed: the upstream handshake is made
 * first (key injected, model mapped), and only when the backend accepted it does the client get its
 * 101; then the bridge joins the two. Anything else that asked for an upgrade is plain HTTP again.
 */
export function createUpgradeHandler(ctx: RelayContext): UpgradeHandler {
  const answers = new WeakMap<IncomingMessage, Answer>();
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
  const hooks = (ctx.state.onShutdown ??= new Set());
  const rewrite = isIdentityPolicy(ctx.config.model) ? undefined : ctx.resolveModel;

  return function onUpgrade(req, socket, head) {
    if (!isWebSocketUpgrade(req.method, req.headers) || isRelayAnswered(req.url)) {
      handBackToHttp(this, req, socket as Socket, head);
      return;
    }
    const session = new WsSession(ctx, req);
    const base = ['x-request-id', session.id, ...ctx.cors.responseHeaders(req.headers.origin)];
    // 'handshake' until the client has its answer: an error, the backend's refusal, or a 101 and the bridge.
    let phase: 'handshake' | 'answered' | 'bridged' = 'handshake';
    let upstream: WebSocket | undefined;
    let onShutdown = (): Promise<void> | void => fail(new RelayError('shutting_down'));
    const end = (): void => {
      hooks.delete(onShutdown);
      session.end();
    };
    const fail = (error: RelayError): void => {
      if (phase !== 'handshake') return;
      phase = 'answered';
      upstream?.terminate();
      session.error = error;
      session.status = error.status;
      writeErrorResponse(socket as Socket, error, base, end);
    };
    const onClientGone = (): void => {
      if (phase !== 'handshake') return;
      phase = 'answered';
      session.clientGone = true;
      upstream?.terminate();
      end();
    };
    hooks.add(onShutdown);
    // The HTTP server let go of the socket: its errors are ours until ws takes it.
    socket.on('error', () => undefined);
    socket.once('close', onClientGone);

    let plan;
    try {
      if (ctx.state.shuttingDown) throw new RelayError('shutting_down');
      plan = planUpstream(ctx, req, session);
    } catch (err) {
      fail(toRelayError(err, ctx, session.id));
      return;
    }

    session.upstreamStart = performance.now();
    let up: WebSocket;
    try {
      up = new WebSocket(plan.url, plan.protocols, {
        headers: plan.headers,
        perMessageDeflate: false,
        autoPong: false,
        followRedirects: false,
        handshakeTimeout: ctx.config.request.connect_timeout * 1000,
        maxPayload: ctx.config.request.max_body_size,
      });
    } catch (err) {
      fail(toRelayError(err, ctx, session.id));
      return;
    }
    upstream = up;
    up.on('error', (err) => fail(toRelayError(err, ctx, session.id)));
    up.on('unexpected-response', (_request, res) => {
      if (phase !== 'handshake') {
        res.destroy();
        return;
      }
      phase = 'answered';
      session.status = res.statusCode ?? 502;
      writeRefusal(socket as Socket, res, { stripCors: ctx.cors.enabled, add: base }, () => {
        up.terminate();
        end();
      });
    });
    up.once('upgrade', (res) => {
      answers.set(req, { protocol: res.headers['sec-websocket-protocol'] ?? false, headers: toAnswerHeaders(res.headers, base, ctx.cors.enabled) });
    });
    up.once('open', () => {
      if (phase !== 'handshake') return;
      session.upstreamOpen = performance.now();
      // Whatever the backend says first waits until the client side exists.
      up.pause();
      wss.handleUpgrade(req, socket, head, (client) => {
        phase = 'bridged';
        socket.removeListener('close', onClientGone);
        answers.delete(req);
        session.status = 101;
        session.protocol = client.protocol === '' ? undefined : client.protocol;
        hooks.delete(onShutdown);
        const joined = bridge(client, up, {
          idleTimeoutMs: ctx.config.websocket.idle_timeout * 1000,
          rewriteClientText: rewrite === undefined ? undefined : (data) => rewriteFrame(data, rewrite, session),
          onEnd: (stats) => {
            session.stats = stats;
            end();
          },
        });
        onShutdown = () => joined.close(1001, 'relay shutting down');
        hooks.add(onShutdown);
        up.resume();
      });
    });
  };
}

function rewriteFrame(data: Buffer, resolve: RelayContext['resolveModel'], session: WsSession): Buffer {
  const edit = rewriteSessionModel(data, resolve);
  if (edit === undefined) return data;
  session.noteModel(edit.asked, edit.sent);
  return edit.data;
}
