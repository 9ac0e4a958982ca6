import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { MockUpstream, RecordedRequest } from './mock-upstream.js';
import type { RunningRelay } from './start-relay.js';

/**
 * Raw HTTP/1.1 over node:net, for request targets and framings that fetch, undici and node:http
 * would normalize or refuse to send. Parses just enough of the answer: status, headers, body.
 */

export interface RawResponse {
  /** 0 when the connection closed before a status line arrived. */
  readonly status: number;
  /** Lower-cased names; repeated headers keep every value. */
  readonly headers: Record<string, string[]>;
  readonly body: string;
  /** Everything the server wrote. */
  readonly raw: string;
  /** Whether the server closed the connection (rather than the answer being complete). */
  readonly closed: boolean;
}

export interface RawOptions {
  /** Give up (destroy the socket and reject) after this many ms. Default 5000. */
  readonly timeoutMs?: number;
}

/** Opens a connection to the relay. */
export async function openSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await once(socket, 'connect');
  return socket;
}

/** Sends `request` as-is and resolves with the first response (complete by content-length, or cut by close). */
export async function rawRequest(port: number, request: string | Buffer, options: RawOptions = {}): Promise<RawResponse> {
  const socket = await openSocket(port);
  socket.on('error', () => undefined);
  const answer = readResponse(socket, options);
  socket.write(request);
  try {
    return await answer;
  } finally {
    socket.destroy();
  }
}

/** Resolves with the first response the server writes on `socket` (or what it wrote before closing). */
export function readResponse(socket: Socket, options: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const timer = setTimeout(() => {
      finish(new Error(`no complete response within ${options.timeoutMs ?? 5000} ms; got: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    }, options.timeoutMs ?? 5000);
    const finish = (err?: Error, closed = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      if (err !== undefined) {
        socket.destroy();
        reject(err);
        return;
      }
      const parsed = parseResponse(Buffer.concat(chunks), closed);
      if (closed) socket.destroy();
      resolve(parsed);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      const parsed = parseResponse(Buffer.concat(chunks), false);
      if (parsed.status !== 0 && isComplete(Buffer.concat(chunks), parsed)) finish();
    };
    socket.on('data', onData);
    socket.once('close', () => finish(undefined, true));
    socket.once('end', () => finish(undefined, true));
    socket.on('error', () => finish(undefined, true));
  });
}

function splitHead(data: Buffer): { head: string; body: Buffer } | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  return { head: data.subarray(0, end).toString('latin1'), body: data.subarray(end + 4) };
}

function parseResponse(data: Buffer, closed: boolean): RawResponse {
  const raw = data.toString('latin1');
  const parts = splitHead(data);
  if (parts === undefined) return { status: 0, headers: {}, body: '', raw, closed };
  const [statusLine, ...lines] = parts.head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  const headers: Record<string, string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  let body = parts.body;
  const length = headers['content-length']?.[0];
  if (length !== undefined) body = body.subarray(0, Number(length));
  else if (isChunked(headers)) body = decodeChunked(body).body;
  return { status: m ? Number(m[1]) : 0, headers, body: body.toString('utf8'), raw, closed };
}

function isComplete(data: Buffer, parsed: RawResponse): boolean {
  if (parsed.status === 204 || parsed.status === 304) return true;
  const parts = splitHead(data);
  if (parts === undefined) return false;
  const length = parsed.headers['content-length']?.[0];
  if (length !== undefined) return parts.body.length >= Number(length);
  if (isChunked(parsed.headers)) return decodeChunked(parts.body).complete;
  return false;
}

function isChunked(headers: Record<string, string[]>): boolean {
  return headers['transfer-encoding']?.at(-1)?.toLowerCase() === 'chunked';
}

/** Walks chunked framing: the data so far, and whether the last chunk and its trailers have arrived. */
function decodeChunked(data: Buffer): { body: Buffer; complete: boolean } {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) return { body: Buffer.concat(out), complete: false };
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) return { body: Buffer.concat(out), complete: false };
    if (size === 0) {
      // trailers (possibly none), then an empty line
      const rest = data.subarray(lineEnd + 2);
      const complete = rest.subarray(0, 2).toString() === '\r\n' || rest.includes('\r\n\r\n');
      return { body: Buffer.concat(out), complete };
    }
    const start = lineEnd + 2;
    if (data.length < start + size + 2) {
      out.push(data.subarray(start, Math.min(data.length, start + size)));
      return { body: Buffer.concat(out), complete: false };
    }
    out.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}

/** A GET with the given request target (sent verbatim), closing the connection after the answer. */
export function rawGet(port: number, target: string, extraHeaders = ''): Promise<RawResponse> {
  return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extraHeaders}Connection: close\r\n\r\n`);
}

/** Parses a relay-made error body and checks OpenAI's shape: {"error":{"message","type","code"}}. */
export function toOpenAIError(body: string): { message: string; type: string; code: string | null } {
  const parsed = JSON.parse(body) as { error?: { message?: unknown; type?: unknown; code?: unknown } };
  const error = parsed.error;
  if (error === undefined || typeof error.message !== 'string' || typeof error.type !== 'string' || !('code' in error)) {
    throw new Error(`not an OpenAI-shaped error: ${body}`);
  }
  return { message: error.message, type: error.type, code: error.code === null ? null : String(error.code) };
}

/**
 * Proves nothing else reached the mock: sends a sentinel request through the relay, waits until it
 * arrives, and returns every request the mock recorded from index `since` on, sentinels left out
 * (expected: none).
 */
export async function requestsBesidesSentinel(
  relay: RunningRelay,
  upstream: MockUpstream,
  options: { since?: number; headers?: Record<string, string> } = {},
): Promise<RecordedRequest[]> {
  const since = options.since ?? 0;
  const headers = options.headers ?? {};
  const name = `/sentinel-${Math.random().toString(36).slice(2)}`;
  const res = await fetch(`${relay.baseURL}${name}`, { headers });
  await res.arrayBuffer();
  if (!upstream.requests.some((r) => r.url.endsWith(name))) throw new Error(`the sentinel request did not reach the mock (status ${res.status})`);
  return upstream.requests.slice(since).filter((r) => !r.url.includes('/sentinel-'));
}

/** Waits for the access-log line of `requestId` (skipping others), bounded. */
export async function accessLogFor(relay: RunningRelay, requestId: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no access-log line for request ${requestId} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    for (;;) {
      const found = relay.logs.find((l) => l.msg === 'request' && l.request_id === requestId);
      if (found !== undefined) return found;
      // resolves at once with a line already seen, or when the next line is written
      await Promise.race([relay.nextAccessLog(), timeout]);
    }
  } finally {
    clearTimeout(timer);
  }
}
