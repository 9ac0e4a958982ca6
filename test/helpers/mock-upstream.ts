import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen.js';

/** What arrived at the mock backend, exactly. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** The raw body bytes (empty in digest mode). */
  readonly body: Buffer;
  readonly bodyLength: number;
  readonly bodySha256: string;
  /** Whether the request ended normally (false: the relay aborted it). */
  readonly complete: boolean;
}

export type MockHandler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface MockUpstream {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Replaces the reply for the next requests. */
  handle(handler: MockHandler): void;
  /** Resolves with the next request that arrives (or the first unseen one). */
  nextRequest(): Promise<RecordedRequest>;
  /** Resolves when an in-flight response on the mock is closed by the peer (the relay aborted it). */
  nextAbort(): Promise<void>;
  close(): Promise<void>;
}

export interface MockOptions {
  /** 'digest': keep only length and SHA-256 of bodies (for huge uploads). */
  readonly body?: 'buffer' | 'digest';
}

export async function startMockUpstream(handler: MockHandler = replyJson(200, { ok: true }), options: MockOptions = {}): Promise<MockUpstream> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const waiters: ((r: RecordedRequest) => void)[] = [];
  const abortWaiters: (() => void)[] = [];
  let delivered = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let length = 0;
    let finished = false;
    res.on('close', () => {
      if (!res.writableFinished) for (const w of abortWaiters.splice(0)) w();
    });
    req.on('data', (c: Buffer) => {
      length += c.length;
      hash.update(c);
      if (options.body !== 'digest') chunks.push(c);
    });
    const done = (complete: boolean): void => {
      if (finished) return;
      finished = true;
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
        bodyLength: length,
        bodySha256: hash.digest('hex'),
        complete,
      };
      requests.push(recorded);
      const waiter = waiters.shift();
      if (waiter) {
        delivered++;
        waiter(recorded);
      }
      if (complete) void Promise.resolve(current(recorded, res, req)).catch(() => res.destroy());
    };
    req.on('end', () => done(true));
    req.on('close', () => done(false));
  });
  const listener = await listenOnLoopback(server);
  const port = listener.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    handle(h) {
      current = h;
    },
    nextRequest() {
      if (delivered < requests.length) return Promise.resolve(requests[delivered++] as RecordedRequest);
      return new Promise((resolve) => waiters.push(resolve));
    },
    nextAbort() {
      return new Promise((resolve) => abortWaiters.push(resolve));
    },
    close: () => listener.close(),
  };
}

export function replyJson(status: number, body: unknown, headers: Record<string, string> = {}): MockHandler {
  return (_req, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
}

/** A chat.completion echoing the model the backend received. */
export function replyChat(content = 'Hello!'): MockHandler {
  return (req, res) => {
    const model = req.body.length > 0 ? (JSON.parse(req.body.toString()) as { model?: string }).model : undefined;
    replyJson(200, chatCompletion(model ?? 'unknown', content))(req, res, undefined as never);
  };
}

export function chatCompletion(model: string, content: string): Record<string, unknown> {
  return {
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  };
}

/** SSE chat chunks, one per piece, `delayMs` apart, then [DONE]. Writes raw bytes. */
export function replySse(pieces: readonly string[], options: { delayMs?: number; model?: string; done?: boolean; extra?: string } = {}): MockHandler {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    if (options.extra) res.write(options.extra);
    for (const [i, piece] of pieces.entries()) {
      if (i > 0 && options.delayMs) await sleep(options.delayMs);
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(chatChunk(options.model ?? 'gpt-4-turbo', piece))}\n\n`);
    }
    if (options.done !== false) res.end('data: [DONE]\n\n');
  };
}

export function chatChunk(model: string, content: string): Record<string, unknown> {
  return { id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] };
}

/** Never answers (until the connection is closed by the other side). */
export function hang(): MockHandler {
  return () => undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
