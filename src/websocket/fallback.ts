import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node sends every request carrying `Connection: upgrade` to the 'upgrade' listener once there is
 * one, so without this an `Upgrade: h2c` request (curl --http2 on http://) or a WebSocket handshake
 * on a path the relay answers itself (/health) would lose the ordinary HTTP handling it had before.
 * The request is handed back to the HTTP server as if the upgrade had not been asked for: its head
 * is rebuilt without `Upgrade` (and the `upgrade` token of `Connection`), put back in front of the
 * unread bytes, and the socket re-enters the server as a connection.
 */
export function handBackToHttp(server: Server, req: IncomingMessage, socket: Socket, head: Buffer): void {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (lower === 'upgrade') continue;
    let value = raw[i + 1] as string;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && t.toLowerCase() !== 'upgrade')
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  server.emit('connection', socket);
}

/** Paths the relay answers itself whatever the request asks for (see http/routes.ts). */
export function isRelayAnswered(url: string | undefined): boolean {
  return url === '/health' || (url?.startsWith('/health?') ?? false);
}
