import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Socket } from 'node:net';
import { listenOnLoopback } from './listen.js';

/** What arrived at the mock backend's handshake, exactly. */
export interface RecordedHandshake {
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** Sec-WebSocket-Protocol entries, in order. */
  readonly protocols: readonly string[];
  /** Whether it asked for a WebSocket upgrade (false: a plain HTTP request reached the backend). */
  readonly upgrade: boolean;
}

export interface ReceivedMessage {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

export interface BackendConnection {
  readonly handshake: RecordedHandshake;
  readonly ws: WebSocket;
  readonly messages: ReceivedMessage[];
  /** Resolves with the next message (or the first unseen one). */
  nextMessage(): Promise<ReceivedMessage>;
  /** Resolves with the close the backend saw. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

export type ConnectionScript = (conn: BackendConnection) => void;

export interface Refusal {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

export interface MockWsBackend {
  /** http://127.0.0.1:PORT, for backend.base_url. */
  readonly url: string;
  readonly port: number;
  /** Every handshake and plain request that arrived. */
  readonly handshakes: RecordedHandshake[];
  readonly connections: BackendConnection[];
  /** Resolves with the next accepted connection (or the first unseen one). */
  nextConnection(): Promise<BackendConnection>;
  /** What each accepted connection does (default: echo every message back as it came). */
  script(fn: ConnectionScript): void;
  /** Answer the next handshakes with this HTTP response instead of a 101 (undefined: accept again). */
  refuse(refusal: Refusal | undefined): void;
  close(): Promise<void>;
}

/** Echoes every message back with the same type, like a loop-back realtime server. */
export const echo: ConnectionScript = (conn) => {
  conn.ws.on('message', (data: RawData, isBinary: boolean) => conn.ws.send(data as Buffer, { binary: isBinary }));
};

/**
 * A WebSocket backend on 127.0.0.1 that records every handshake (path, query, headers, subprotocols)
 * and every message (unless keepMessages is false, for floods), and picks the `realtime` subprotocol when offered (as OpenAI does), else the first.
 */
export async function startMockWsBackend(initial: ConnectionScript = echo, options: { keepMessages?: boolean } = {}): Promise<MockWsBackend> {
  const keep = options.keepMessages ?? true;
  let current = initial;
  let refusal: Refusal | undefined;
  const handshakes: RecordedHandshake[] = [];
  const connections: BackendConnection[] = [];
  const waiters: ((c: BackendConnection) => void)[] = [];
  let delivered = 0;

  const record = (req: import('node:http').IncomingMessage, upgrade: boolean): RecordedHandshake => {
    const url = req.url ?? '';
    const parsed = new URL(url, 'http://backend');
    const protocolHeader = req.headers['sec-websocket-protocol'];
    const h: RecordedHandshake = {
      method: req.method ?? '',
      url,
      path: parsed.pathname,
      query: parsed.searchParams,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      protocols: protocolHeader === undefined ? [] : protocolHeader.split(',').map((p) => p.trim()),
      upgrade,
    };
    handshakes.push(h);
    return h;
  };

  const server: Server = createServer((req, res) => {
    record(req, false);
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('upgrade required');
  });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has('realtime') ? 'realtime' : (offered.values().next().value ?? false)),
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    const handshake = record(req, true);
    if (refusal !== undefined) {
      const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(refusal.body)), ...refusal.headers };
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${refusal.status} Refused\r\n${lines}connection: close\r\n\r\n${refusal.body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const messages: ReceivedMessage[] = [];
      const msgWaiters: ((m: ReceivedMessage) => void)[] = [];
      let seen = 0;
      ws.on('message', (data: RawData, isBinary: boolean) => {
        if (!keep) return;
        const m = { data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary };
        messages.push(m);
        const w = msgWaiters.shift();
        if (w) {
          seen++;
          w(m);
        }
      });
      ws.on('error', () => undefined);
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
      );
      const conn: BackendConnection = {
        handshake,
        ws,
        messages,
        closed,
        nextMessage() {
          if (seen < messages.length) return Promise.resolve(messages[seen++] as ReceivedMessage);
          return new Promise((resolve) => msgWaiters.push(resolve));
        },
      };
      connections.push(conn);
      current(conn);
      const w = waiters.shift();
      if (w) {
        delivered++;
        w(conn);
      }
    });
  });
  const listener = await listenOnLoopback(server);
  const port = listener.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    handshakes,
    connections,
    nextConnection() {
      if (delivered < connections.length) return Promise.resolve(connections[delivered++] as BackendConnection);
      return new Promise((resolve) => waiters.push(resolve));
    },
    script(fn) {
      current = fn;
    },
    refuse(r) {
      refusal = r;
    },
    close: () => listener.close(),
  };
}
