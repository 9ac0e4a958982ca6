import type { IncomingHttpHeaders } from 'node:http';
import { connect, type createConnection, type NetConnectOpts, type Socket, type TcpNetConnectOpts } from 'node:net';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import type { RunningRelay } from './start-relay.js';

export interface ClientMessage {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** A connected raw `ws` client that queues what it receives, so no message is missed between awaits. */
export interface WsClient {
  readonly ws: WebSocket;
  readonly messages: ClientMessage[];
  nextMessage(): Promise<ClientMessage>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The 101 response's headers. */
  readonly responseHeaders: IncomingHttpHeaders;
}

/** ws://127.0.0.1:PORT/path on the relay. */
export function wsUrl(relay: RunningRelay, path: string): string {
  return `ws://127.0.0.1:${relay.port}${path}`;
}

/** Opens a raw ws client; rejects (with the status) if the handshake is not answered with a 101. */
export function openWs(url: string, protocols: readonly string[] = [], options: ClientOptions = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [...protocols], { perMessageDeflate: false, ...options });
    const messages: ClientMessage[] = [];
    const waiters: ((m: ClientMessage) => void)[] = [];
    let seen = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const m = { data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary };
      messages.push(m);
      const w = waiters.shift();
      if (w) {
        seen++;
        w(m);
      }
    });
    const closed = new Promise<{ code: number; reason: string }>((res) => ws.once('close', (code: number, reason: Buffer) => res({ code, reason: reason.toString() })));
    ws.on('upgrade', (res) => (responseHeaders = res.headers));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`unexpected response ${res.statusCode ?? 0}`));
      res.resume();
    });
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined);
      resolve({
        ws,
        messages,
        closed,
        responseHeaders,
        nextMessage() {
          if (seen < messages.length) return Promise.resolve(messages[seen++] as ClientMessage);
          return new Promise((r) => waiters.push(r));
        },
      });
    });
  });
}

export interface Refused {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Opens a raw ws client that must be refused: resolves with the HTTP response it got instead of a 101. */
export function expectRefused(url: string, protocols: readonly string[] = [], options: ClientOptions = {}): Promise<Refused> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [...protocols], { perMessageDeflate: false, ...options });
    ws.on('error', (err) => reject(err));
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the handshake was accepted'));
    });
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
        req.destroy();
      });
    });
  });
}

/**
 * For the openai SDK's realtime client, which always dials wss://: the relay under test speaks plain
 * HTTP on 127.0.0.1, so the TLS connection is replaced by a plain TCP one (`options.createConnection`).
 */
export const plainConnection = ((options: NetConnectOpts): Socket => {
  const tcp = options as TcpNetConnectOpts;
  return connect({ host: tcp.host ?? '127.0.0.1', port: Number(tcp.port) });
}) as typeof createConnection;

/** Resolves with the first log line matching, waiting for it (bounded). */
export async function waitForLog(relay: RunningRelay, match: (line: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = relay.logs.find(match);
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error('no matching log line');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The relay's 'websocket' access-log line for a request id. */
export function sessionLog(relay: RunningRelay, requestId: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return waitForLog(relay, (l) => l.msg === 'websocket' && l.request_id === requestId, timeoutMs);
}
