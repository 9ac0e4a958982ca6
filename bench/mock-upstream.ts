/**
 * The mock OpenAI upstream, run as its own process (pinned next to the load generator) so it is
 * never measured as part of the proxy. Prints `{"port":N}` on stdout once listening.
 *
 *   POST /v1/chat/completions       ~600 byte JSON, or SSE when the body has "stream":true; with
 *                                   "include_usage":true too, OpenAI's shape: every chunk ends in
 *                                   "usage":null and a {"choices":[],"usage":{…}} chunk precedes [DONE]
 *   POST /v1/audio/transcriptions   consumes the body, replies {"text":"ok","bytes":N}
 *   GET  /__bench/stats                  counters read by the bench (never proxied)
 *   POST /__bench/reset?interval-ms=N    zero the counters, set the SSE chunk spacing
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { createEmptyStats, type MockStats } from './mock-stats.js';
import {
  BACKEND_API_KEY,
  COMPLETION_BODY,
  INCLUDE_USAGE_MARKER,
  MAPPED_MODEL,
  SSE_DONE,
  createSseChunk,
  createSseUsageChunk,
} from './payloads.js';

/** Mutable on purpose: /__bench/reset?interval-ms=N changes the SSE pace between cases. */
interface MockOptions {
  chunks: number;
  intervalMs: number;
}

const MAX_COUNTED_KEYS = 64;

function countKey(stats: MockStats, authorization: string | undefined): void {
  const key = authorization === undefined ? '(none)' : authorization.replace(/^Bearer /, '');
  const seen = stats.keys[key];
  if (seen !== undefined) stats.keys[key] = seen + 1;
  else if (Object.keys(stats.keys).length < MAX_COUNTED_KEYS) stats.keys[key] = 1;
}

// Flat [name, value, …] header lists, built once: writeHead copies nothing per request.
const COMPLETION_HEADERS = ['content-type', 'application/json', 'content-length', String(COMPLETION_BODY.length)];
const SSE_HEADERS = ['content-type', 'text/event-stream', 'cache-control', 'no-cache'];
const STREAM_MARKER = Buffer.from('"stream":true');
const USAGE_MARKER = Buffer.from(INCLUDE_USAGE_MARKER);
const MAPPED_MARKER = Buffer.from(`"${MAPPED_MODEL}"`);
const INJECTED_AUTH = `Bearer ${BACKEND_API_KEY}`;

function sendJson(res: ServerResponse, status: number, body: Buffer | string): void {
  res.writeHead(status, ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(body))]);
  res.end(body);
}

/** Reads one header from rawHeaders without materialising req.headers. */
function readRawHeader(req: IncomingMessage, lowerName: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.length === lowerName.length && raw[i]?.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

/** The chunks of one stream, prebuilt: plain, or OpenAI's include_usage shape. */
interface SseChunkSet {
  readonly plain: readonly Buffer[];
  readonly withUsage: readonly Buffer[];
  /** The `"choices":[]` usage chunk, sent after the last content chunk when usage was asked for. */
  readonly usage: Buffer;
}

function streamChunks(
  res: ServerResponse,
  options: MockOptions,
  stats: MockStats,
  chunks: readonly Buffer[],
  usageChunk: Buffer | undefined,
): void {
  stats.streamsStarted += 1;
  stats.activeStreams += 1;
  stats.peakStreams = Math.max(stats.peakStreams, stats.activeStreams);
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let open = true;
  const finish = (): void => {
    if (!open) return;
    open = false;
    stats.activeStreams -= 1;
    if (timer !== undefined) clearTimeout(timer);
  };
  const writeNext = (): void => {
    if (!open) return;
    const chunk = next < options.chunks ? chunks[next] : undefined;
    next += 1;
    if (chunk === undefined) {
      stats.streamsFinished += 1;
      // OpenAI sends the usage chunk as its own event right before [DONE].
      if (usageChunk !== undefined) res.write(usageChunk);
      res.end(SSE_DONE);
      finish();
      return;
    }
    res.write(chunk);
    timer = setTimeout(writeNext, options.intervalMs);
  };
  res.once('close', finish);
  res.writeHead(200, SSE_HEADERS);
  writeNext();
}

function handleChat(
  req: IncomingMessage,
  res: ServerResponse,
  options: MockOptions,
  stats: MockStats,
  chunks: SseChunkSet,
): void {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    const body = parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts);
    if (body.includes(MAPPED_MARKER)) stats.mappedModel += 1;
    if (body.includes(STREAM_MARKER)) {
      if (body.includes(USAGE_MARKER)) {
        stats.usageStreams += 1;
        streamChunks(res, options, stats, chunks.withUsage, chunks.usage);
      } else {
        streamChunks(res, options, stats, chunks.plain, undefined);
      }
    } else {
      res.writeHead(200, COMPLETION_HEADERS);
      res.end(COMPLETION_BODY);
    }
  });
}

function handleUpload(req: IncomingMessage, res: ServerResponse, stats: MockStats): void {
  let bytes = 0;
  req.on('data', (part: Buffer) => {
    bytes += part.length;
  });
  req.on('end', () => {
    stats.uploadBytes += bytes;
    sendJson(res, 200, JSON.stringify({ text: 'ok', bytes }));
  });
}

function createHandler(options: MockOptions, state: { stats: MockStats }) {
  const chunks: SseChunkSet = {
    plain: Array.from({ length: options.chunks }, (_, i) => Buffer.from(createSseChunk(i))),
    withUsage: Array.from({ length: options.chunks }, (_, i) => Buffer.from(createSseChunk(i, true))),
    usage: Buffer.from(createSseUsageChunk(options.chunks)),
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (url === '/__bench/stats') return sendJson(res, 200, JSON.stringify(state.stats));
    if (url.startsWith('/__bench/reset')) {
      const interval = Number(new URL(url, 'http://mock').searchParams.get('interval-ms') ?? NaN);
      if (Number.isFinite(interval) && interval > 0) options.intervalMs = interval;
      const active = state.stats.activeStreams;
      state.stats = { ...createEmptyStats(), activeStreams: active };
      return sendJson(res, 200, '{}');
    }
    state.stats.requests += 1;
    res.sendDate = false;
    const authorization = readRawHeader(req, 'authorization');
    if (authorization === INJECTED_AUTH) state.stats.injectedKey += 1;
    countKey(state.stats, authorization);
    if (req.method === 'POST' && url.startsWith('/v1/chat/completions')) {
      return handleChat(req, res, options, state.stats, chunks);
    }
    if (req.method === 'POST' && url.startsWith('/v1/audio/transcriptions')) {
      return handleUpload(req, res, state.stats);
    }
    req.resume();
    sendJson(res, 404, JSON.stringify({ error: { message: `mock: no route ${url}`, type: 'invalid_request_error' } }));
  };
}

function readOptions(argv: readonly string[]): MockOptions & { port: number } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string', default: '0' },
      chunks: { type: 'string', default: '20' },
      'interval-ms': { type: 'string', default: '50' },
    },
  });
  return { port: Number(values.port), chunks: Number(values.chunks), intervalMs: Number(values['interval-ms']) };
}

function startMock(): void {
  const options = readOptions(process.argv.slice(2));
  const state = { stats: createEmptyStats() };
  const server = createServer(
    { keepAliveTimeout: 120_000, headersTimeout: 130_000, requestTimeout: 0, noDelay: true },
    createHandler(options, state),
  );
  server.maxRequestsPerSocket = 0;
  server.listen({ port: options.port, host: '127.0.0.1', backlog: 65_535 }, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
  const close = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}

startMock();
