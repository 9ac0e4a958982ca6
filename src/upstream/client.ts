import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { UpstreamCall } from './call.js';
import { FreeListPool } from './free-list-pool.js';
import { toDispatchBody } from './one-shot-body.js';
import { toBasePath } from '../proxy/target.js';

/**
 * One backend: an undici Pool (FreeListPool: undici's, with an O(1) choice of connection) bound to
 * its origin (so no request can reach another host), with the connect, headers and idle-body
 * timeouts from the config. Redirects are never followed (undici 7
 * follows none without an interceptor): a 3xx goes back to the client, without the key.
 */
export interface UpstreamConfig {
  readonly name: string;
  readonly base_url: string;
  /** Seconds: no response headers within it, or an idle gap between body chunks longer than it → 504. */
  readonly timeout: number;
  readonly connect_timeout: number;
}

export interface UpstreamRequest {
  readonly method: string;
  /** Path and query, already under the base path. */
  readonly path: string;
  readonly headers: string[];
  readonly body: Buffer | Readable | null;
}

export interface Upstream {
  readonly name: string;
  readonly origin: string;
  readonly basePath: string;
  /** Starts the request; `call.head` resolves with the status and headers, the body waits for a sink. */
  send(request: UpstreamRequest): UpstreamCall;
  close(): Promise<void>;
}

export function createUpstream(config: UpstreamConfig): Upstream {
  const url = new URL(config.base_url);
  const pool = new FreeListPool(url.origin, {
    connect: { timeout: config.connect_timeout * 1000 },
    headersTimeout: config.timeout * 1000,
    bodyTimeout: config.timeout * 1000,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    pipelining: 1,
  });
  return {
    name: config.name,
    origin: url.origin,
    basePath: toBasePath(config.base_url),
    send(request) {
      const call = new UpstreamCall(request.body);
      // undici takes an Iterable body (Dispatcher.md: `body`), which its typings leave out.
      const body = toDispatchBody(request.body) as Dispatcher.DispatchOptions['body'];
      pool.dispatch(
        { method: request.method as Dispatcher.HttpMethod, path: request.path, headers: request.headers, body },
        call as unknown as Dispatcher.DispatchHandler,
      );
      return call;
    },
    close: () => pool.close(),
  };
}
