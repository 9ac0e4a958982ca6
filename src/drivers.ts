import { createRequire } from 'node:module';

/**
 * Database and Redis drivers are loaded when first used, not at start: the bundle keeps them
 * outside (esbuild would hoist a static import to the top of the file and load it at start-up,
 * issue 3), and most relays never need them.
 */
const requireDriver = createRequire(import.meta.url);

export function loadDriver<T>(name: 'better-sqlite3' | 'pg' | 'ioredis'): T {
  return requireDriver(name) as T;
}
