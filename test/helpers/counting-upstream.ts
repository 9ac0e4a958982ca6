import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listenOnLoopback } from './listen.js';

/**
 * A backend that counts body bytes the moment they arrive (the mock-upstream helper records a
 * request only once it ended). Lets a test prove that a relay streams: the backend must see the
 * bytes while the client is still sending.
 */
export interface CountedRequest {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyLength: number;
  readonly bodySha256: string;
}

export interface CountingUpstream {
  readonly url: string;
  /** Body bytes received since the last reset, over all requests. */
  received(): number;
  reset(): void;
  /** Resolves once `received()` reaches `bytes`; rejects after `timeoutMs`. */
  waitForBytes(bytes: number, timeoutMs: number): Promise<void>;
  /** The next request to end (answered 200 `{"ok":true}`). */
  nextRequest(): Promise<CountedRequest>;
  close(): Promise<void>;
}

export async function startCountingUpstream(): Promise<CountingUpstream> {
  let received = 0;
  let waiters: { bytes: number; resolve: () => void }[] = [];
  const done: CountedRequest[] = [];
  const requestWaiters: ((r: CountedRequest) => void)[] = [];
  const server = createServer((req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      received += chunk.length;
      waiters = waiters.filter((w) => (received >= w.bytes ? (w.resolve(), false) : true));
    });
    req.on('end', () => {
      const counted: CountedRequest = { url: req.url ?? '', headers: req.headers, bodyLength: length, bodySha256: hash.digest('hex') };
      const w = requestWaiters.shift();
      if (w) w(counted);
      else done.push(counted);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
      res.end('{"ok":true}');
    });
  });
  const listener = await listenOnLoopback(server);
  const port = listener.port;
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => received,
    reset() {
      received = 0;
    },
    waitForBytes(bytes, timeoutMs) {
      if (received >= bytes) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== finish);
          reject(new Error(`the backend received ${received} bytes, waited for ${bytes} for ${timeoutMs} ms`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push({ bytes, resolve: finish });
      });
    },
    nextRequest() {
      const first = done.shift();
      if (first) return Promise.resolve(first);
      return new Promise((resolve) => requestWaiters.push(resolve));
    },
    close: () => listener.close(),
  };
}
