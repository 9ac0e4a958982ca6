import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * What the reference proxies (naive-proxy.ts, tcp-splice.ts) read from the relay config the bench
 * generates: where to listen, where the mock is, and the key to inject.
 */
export interface ReferenceConfig {
  readonly port: number;
  readonly upstream: string;
  readonly key: string;
}

export function readReferenceConfig(path: string, who: string): ReferenceConfig {
  const doc = parse(readFileSync(path, 'utf8')) as { server?: { port?: number }; backend?: { base_url?: string; api_key?: string } };
  const port = doc.server?.port;
  const upstream = doc.backend?.base_url;
  const key = doc.backend?.api_key;
  if (typeof port !== 'number' || typeof upstream !== 'string' || typeof key !== 'string') {
    throw new Error(`${path}: ${who} needs server.port, backend.base_url and backend.api_key`);
  }
  return { port, upstream, key };
}
