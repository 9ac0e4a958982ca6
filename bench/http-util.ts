/** Small node:http helpers shared by the scenarios and the target starters. */
import { request, type Agent } from 'node:http';
import { createServer } from 'node:net';

export interface SimpleResponse {
  readonly status: number;
  readonly body: Buffer;
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface SendOptions {
  readonly method: 'GET' | 'POST';
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly agent?: Agent | false;
  readonly timeoutMs: number;
}

/** One request, whole response buffered (only for small bodies). */
export function sendRequest(url: string, options: SendOptions): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method,
        agent: options.agent ?? false,
        headers: {
          ...options.headers,
          ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }),
        },
        timeout: options.timeoutMs,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`timeout after ${options.timeoutMs} ms: ${url}`)));
    req.once('error', reject);
    req.end(options.body);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `url` until it answers 200; resolves with the milliseconds since `startedAt`
 * (performance.now() clock). Bounded by `timeoutMs`; stops early when `isAlive` turns false.
 */
export async function waitForHealthy(
  url: string,
  startedAt: number,
  timeoutMs: number,
  isAlive: () => boolean,
): Promise<number> {
  const maxAttempts = Math.ceil(timeoutMs / 5) + 1;
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    if (!isAlive()) throw new Error(`process exited before ${url} answered`);
    try {
      const res = await sendRequest(url, { method: 'GET', timeoutMs: 1_000 });
      if (res.status === 200) return performance.now() - startedAt;
    } catch {
      // Not listening yet.
    }
    if (performance.now() - startedAt > timeoutMs) break;
    await sleep(5);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}
