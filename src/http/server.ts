import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RelayContext } from '../context.js';
import { RelayError, toErrorBody } from '../errors.js';
import { exchangeOn } from './exchange.js';
import type { UpgradeHandler } from '../websocket/upgrade.js';
import { createRequestListener } from './routes.js';

/**
 * The HTTP server (it does not listen: main.ts does). Node's parser already refuses framing attacks
 * (Content-Length with Transfer-Encoding, differing duplicate lengths, bad chunking): those become an
 * OpenAI-shaped 400 here and the connection is closed, so nothing ambiguous is ever forwarded.
 * Slow clients meet headers_timeout and request_timeout; headers are bounded by max_header_size.
 */
export function createRelayServer(ctx: RelayContext): Server {
  const s = ctx.config.server;
  const server = createServer(
    {
      maxHeaderSize: s.max_header_size,
      headersTimeout: s.headers_timeout * 1000,
      requestTimeout: s.request_timeout * 1000,
      keepAliveTimeout: s.keep_alive_timeout * 1000,
      noDelay: true,
      insecureHTTPParser: false,
      requireHostHeader: true,
      // The headers deadline is enforced by a periodic sweep: sweep often enough for the configured value.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, s.headers_timeout * 250)),
    },
    createRequestListener(ctx),
  );
  const cors = ctx.cors.responseHeaders(undefined);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, cors));
  if (ctx.config.websocket.enabled) server.on('upgrade', lazyUpgradeHandler(ctx));
  return server;
}

/**
 * WebSocket support (the ws library, and the tls, https and zlib modules it loads) is loaded at the
 * first upgrade, not at start (start-up time, issue 3): most relays never see one.
 */
function lazyUpgradeHandler(ctx: RelayContext): UpgradeHandler {
  let handler: UpgradeHandler | undefined;
  let loading: Promise<UpgradeHandler> | undefined;
  return function onUpgrade(req, socket, head) {
    if (handler !== undefined) {
      handler.call(this, req, socket, head);
      return;
    }
    loading ??= import('../websocket/upgrade.js').then((m) => (handler = m.createUpgradeHandler(ctx)));
    loading.then(
      (h) => h.call(this, req, socket, head),
      () => socket.destroy(),
    );
  };
}

/** A request Node's parser refused never reaches a handler: answer it here, OpenAI-shaped, and close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, cors: readonly string[]): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  let error: RelayError;
  if (err.code === 'HPE_HEADER_OVERFLOW') error = new RelayError('headers_too_large');
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') error = new RelayError('request_timeout');
  else error = new RelayError('bad_request', `The request could not be parsed (${err.code ?? 'malformed'}).`);
  // A request already being handled (its body stalled): its log line and usage record say this answer, under its id.
  const ex = exchangeOn(socket);
  if (ex !== undefined) {
    // Its response has begun: a 408 written now would land in the middle of it.
    if (ex.responseStarted) {
      socket.destroy();
      return;
    }
    ex.answered = error;
  }
  const body = toErrorBody(error);
  socket.end(
    `HTTP/1.1 ${error.status} ${error.status === 431 ? 'Request Header Fields Too Large' : error.status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
      `x-request-id: ${ex?.id ?? randomUUID()}\r\n${toHeaderLines(cors)}` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function toHeaderLines(flat: readonly string[]): string {
  let out = '';
  for (let i = 0; i < flat.length; i += 2) out += `${flat[i] ?? ''}: ${flat[i + 1] ?? ''}\r\n`;
  return out;
}
