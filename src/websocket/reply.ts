import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { toErrorBody, type RelayError } from '../errors.js';
import { toClientHeaders } from '../proxy/headers.js';

/**
 * Answers to a handshake that will not become a WebSocket, written on the raw socket (the HTTP
 * server handed it over with the upgrade): a relay error in OpenAI's shape, or the backend's own
 * refusal passed through. Always `connection: close`: the socket is done after it.
 */

/** An OpenAI-shaped error response; `done` runs when the socket is finished with. */
export function writeErrorResponse(socket: Socket, err: RelayError, headers: readonly string[], done: () => void): void {
  const body = toErrorBody(err);
  const head = toHead(err.status, undefined, [...headers, 'content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)), 'connection', 'close']);
  finish(socket, done);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(head + body);
}

/**
 * The backend refused the upgrade (401, 404, 429, a redirect…): its status, headers and body go to
 * the client as they came, hop-by-hop fields removed, the body streamed. Redirects are not followed.
 */
export function writeRefusal(socket: Socket, res: IncomingMessage, options: { stripCors: boolean; add: readonly string[] }, done: () => void): void {
  const headers = toClientHeaders(res.headers, { stripCors: options.stripCors, dropLength: false, upstreamIdHeader: 'x-upstream-request-id' }, [
    ...options.add,
    'connection',
    'close',
  ]);
  finish(socket, done);
  if (!socket.writable) {
    res.destroy();
    socket.destroy();
    return;
  }
  socket.write(toHead(res.statusCode ?? 502, res.statusMessage, headers), 'latin1');
  // Without a content-length the body is delimited by the close (RFC 9112 §6.3).
  pipeline(res, socket, () => undefined);
}

/** `done` once the answer is flushed (or the socket is gone); a client that keeps the socket open after it is cut off. */
function finish(socket: Socket, done: () => void): void {
  if (socket.destroyed) {
    done();
    return;
  }
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    done();
  };
  socket.once('close', once);
  socket.once('finish', () => {
    once();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}

const LINGER_MS = 5000;

function toHead(status: number, message: string | undefined, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? message ?? 'Unknown'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i] as string}: ${headers[i + 1] as string}\r\n`;
  return `${head}\r\n`;
}
