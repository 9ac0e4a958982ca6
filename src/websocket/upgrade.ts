import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { RelayContext } from '../context.js';
import { RelayError } from '../errors.js';
import { isIdentityPolicy, type ModelResolver } from '../proxy/model-policy.js';
import { bridge } from './bridge.js';
import { toRelayError } from './classify.js';
import { handBackToHttp, isRelayAnswered } from './fallback.js';
import { isWebSocketUpgrade } from './handshake.js';
import { planUpstream, toAnswerHeaders } from './plan.js';
import { writeErrorResponse, writeRefusal } from './reply.js';
import { rewriteSessionModel } from './session-update.js';
import { WsSession } from './session.js';
import { connectUpstream, createClientAcceptor, toChosenProtocol, type ClientAnswer } from './sides.js';

export type UpgradeHandler = (this: Server, req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The 'upgrade' listener (issue 6). A WebSocket handshake is relayed: the upstream handshake is made
 * first (key injected, model mapped), and only when the backend accepted it does the client get its
 * 101; then the bridge joins the two. Errors before that are HTTP answers on the socket. Anything
 * else that asked for an upgrade is plain HTTP again.
 */
export function createUpgradeHandler(ctx: RelayContext): UpgradeHandler {
  const accept = createClientAcceptor(ctx);
  const hooks = (ctx.state.onShutdown ??= new Set());
  const rewrite = isIdentityPolicy(ctx.config.model) ? undefined : ctx.resolveModel;

  return function onUpgrade(req, duplex, head) {
    const socket = duplex as Socket;
    if (!isWebSocketUpgrade(req.method, req.headers) || isRelayAnswered(req.url)) {
      handBackToHttp(this, req, socket, head);
      return;
    }
    const session = new WsSession(ctx, req);
    const base = ['x-request-id', session.id, ...ctx.cors.responseHeaders(req.headers.origin)];
    // 'handshake' until the client has its answer: an error, the backend's refusal, or a 101 and the bridge.
    let phase: 'handshake' | 'answered' | 'bridged' = 'handshake';
    let upstream: WebSocket | undefined;
    // Replaced by the backend's answer ('upgrade' comes before 'open').
    let answer: ClientAnswer = { protocol: false, headers: [`x-request-id: ${session.id}`] };
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
      writeErrorResponse(socket, error, base, end);
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

    let up: WebSocket;
    try {
      if (ctx.state.shuttingDown) throw new RelayError('shutting_down');
      const plan = planUpstream(ctx, req, session);
      session.upstreamStart = performance.now();
      up = upstream = connectUpstream(ctx, plan);
    } catch (err) {
      fail(toRelayError(err, ctx, session.id));
      return;
    }
    up.on('error', (err) => fail(toRelayError(err, ctx, session.id)));
    up.on('unexpected-response', (_request, res) => {
      if (phase !== 'handshake') return void res.destroy();
      phase = 'answered';
      session.status = res.statusCode ?? 502;
      writeRefusal(socket, res, { stripCors: ctx.cors.enabled, add: base }, () => {
        up.terminate();
        end();
      });
    });
    up.once('upgrade', (res) => (answer = { protocol: toChosenProtocol(res.headers), headers: toAnswerHeaders(res.headers, base, ctx.cors.enabled) }));
    up.once('open', () => {
      if (phase !== 'handshake') return;
      session.upstreamOpen = performance.now();
      // What the backend says first waits until the client side exists.
      up.pause();
      accept(req, socket, head, answer, (client) => {
        phase = 'bridged';
        socket.removeListener('close', onClientGone);
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

function rewriteFrame(data: Buffer, resolve: ModelResolver, session: WsSession): Buffer {
  const edit = rewriteSessionModel(data, resolve);
  if (edit === undefined) return data;
  session.noteModel(edit.asked, edit.sent);
  return edit.data;
}
