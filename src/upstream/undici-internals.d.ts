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
