/**
 * Opens many concurrent SSE streams and checks every byte of every stream. It speaks HTTP/1.1 on
 * raw sockets (one request per connection, pre-serialised once) because node:http's per-chunk
 * overhead made the client, not the proxy, the busiest process at thousands of streams. Streams
 * are opened in small batches so the listen backlog and the connect burst are not what is measured.
 */
import { connect, type Socket } from 'node:net';
import { decodeHttpResponse, findHeaderEnd, readFramedLength } from './http-response.js';

export interface StreamRunSpec {
  readonly url: string;
  readonly count: number;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly expected: Buffer;
  /** Streams opened per ramp step and the pause between steps. */
  readonly batch: number;
  readonly batchIntervalMs: number;
  /** Hard limit for the whole run; unfinished streams are destroyed and count as failed. */
  readonly deadlineMs: number;
}

export interface StreamOutcome {
  readonly intact: boolean;
  /** Request start → first body byte, ms (NaN if none arrived). */
  readonly firstChunkMs: number;
  readonly error: string | undefined;
  /** The body carried a `"usage"` member: a usage chunk (or `"usage":null`) the client never asked for. */
  readonly sawUsage: boolean;
}

export interface StreamRunResult {
  readonly outcomes: readonly StreamOutcome[];
  readonly wallMs: number;
}

const CHUNKED_END = '\r\n0\r\n\r\n';
const USAGE_KEY = Buffer.from('"usage"');

function serializeRequest(spec: StreamRunSpec, url: URL): Buffer {
  const body = Buffer.from(spec.body);
  const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(spec.headers)) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${body.length}`, '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n')), body]);
}

function openStream(url: URL, request: Buffer, expected: Buffer, live: Set<Socket>): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const parts: Buffer[] = [];
    let received = 0;
    let headerEnd = -1;
    let framedLength: number | undefined;
    let firstChunkMs = Number.NaN;
    let tail = '';
    let settled = false;
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    live.add(socket);
    const settle = (error: string | undefined): void => {
      if (settled) return;
      settled = true;
      live.delete(socket);
      socket.destroy();
      const raw = Buffer.concat(parts, received);
      if (error !== undefined) return resolve({ intact: false, firstChunkMs, error, sawUsage: raw.includes(USAGE_KEY) });
      const decoded = decodeHttpResponse(raw);
      const intact = decoded.status === 200 && decoded.body.equals(expected);
      const sawUsage = decoded.body.includes(USAGE_KEY);
      const problem = sawUsage ? 'a usage chunk the client did not ask for' : `status ${decoded.status} or bytes differ`;
      resolve({ intact, firstChunkMs, error: intact ? undefined : problem, sawUsage });
    };
    socket.setNoDelay(true);
    socket.on('data', (part: Buffer) => {
      parts.push(part);
      received += part.length;
      if (headerEnd < 0) {
        const head = parts.length === 1 ? part : Buffer.concat(parts, received);
        headerEnd = findHeaderEnd(head);
        if (headerEnd < 0) return;
        framedLength = readFramedLength(head, headerEnd);
      }
      if (Number.isNaN(firstChunkMs) && received > headerEnd) firstChunkMs = performance.now() - startedAt;
      // A proxy that buffered the stream may send a length; otherwise the zero chunk ends it.
      if (framedLength !== undefined) {
        if (received >= framedLength) settle(undefined);
        return;
      }
      tail = (tail + part.toString('latin1', Math.max(0, part.length - CHUNKED_END.length))).slice(-CHUNKED_END.length);
      if (tail === CHUNKED_END) settle(undefined);
    });
    socket.once('error', (error) => settle(error.message));
    socket.once('close', () => settle(received > 0 ? undefined : 'closed before any byte'));
    socket.write(request);
  });
}

export async function runStreams(spec: StreamRunSpec): Promise<StreamRunResult> {
  const url = new URL(spec.url);
  const request = serializeRequest(spec, url);
  const live = new Set<Socket>();
  const pending: Promise<StreamOutcome>[] = [];
  const startedAt = performance.now();
  const deadline = setTimeout(() => {
    for (const socket of live) socket.destroy(new Error('bench deadline reached'));
  }, spec.deadlineMs);
  try {
    for (let opened = 0; opened < spec.count;) {
      const size = Math.min(spec.batch, spec.count - opened);
      for (let i = 0; i < size; i += 1) pending.push(openStream(url, request, spec.expected, live));
      opened += size;
      if (opened < spec.count) await new Promise((resolve) => setTimeout(resolve, spec.batchIntervalMs));
    }
    const outcomes = await Promise.all(pending);
    return { outcomes, wallMs: performance.now() - startedAt };
  } finally {
    clearTimeout(deadline);
  }
}
