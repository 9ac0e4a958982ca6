// Deep imports of undici (it has no `exports` map): only the connection pool and two helpers are
// needed, not its index, which also loads fetch, WebSocket, caches and mocks (start-up time, issue 3).
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolImpl: typeof Pool;
  export default PoolImpl;
}

declare module 'undici/lib/core/util.js' {
  import type { IncomingHttpHeaders } from 'node:http';
  /** Raw header pairs → an object with lower-case names (repeated names become arrays). */
  export function parseHeaders(raw: Buffer[]): IncomingHttpHeaders;
  /** Destroys a stream; a client's IncomingMessage without its socket (the answer must still go out). */
  export function destroy(stream: unknown, err: Error): void;
}

declare module 'undici/lib/dispatcher/client.js' {
  import type { Client } from 'undici';
  const ClientImpl: typeof Client;
  export default ClientImpl;
}

/** The Pool's hooks for its subclasses (undici 7 lib/dispatcher/pool-base.js). */
declare module 'undici/lib/dispatcher/pool-base.js' {
  /** The Dispatchers (Clients) of a pool, in the order they were made. */
  export const kClients: unique symbol;
  /** On a pool's client: true from a dispatch it refused (busy) until its 'drain'. */
  export const kNeedDrain: unique symbol;
  /** Pool method: adds a client (listens to its events) to kClients. */
  export const kAddClient: unique symbol;
  /** Pool method: the client to take the next request, a new one if all are busy, or undefined (at `connections`). */
  export const kGetDispatcher: unique symbol;
}
