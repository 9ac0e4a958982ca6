import type { IncomingMessage, ServerResponse } from 'node:http';
import { createClientKeyCheck } from '../auth/client-keys.js';
import type { RelayContext } from '../context.js';
import { RelayError } from '../errors.js';
import { toUsageJson, toUsageQuery } from '../usage/command.js';
import type { Exchange } from './exchange.js';
import { sendJson } from './respond.js';

/**
 * The admin API: `GET /admin/usage?since=7d&by=key`, the usage report as JSON, behind `admin.key`
 * (a Bearer token, compared in constant time). With no admin key the API does not exist (404).
 * Never relayed.
 */
export function isAdminPath(url: string): boolean {
  return url === '/admin' || url.startsWith('/admin/') || url.startsWith('/admin?');
}

/** The admin key, compared like a client key (constant time), and only as `Authorization: Bearer`. */
export function createAdminCheck(key: string): ((req: IncomingMessage) => boolean) | undefined {
  if (key === '') return undefined;
  const check = createClientKeyCheck([{ name: 'admin', key }]);
  return (req) => {
    try {
      check({ authorization: req.headers.authorization });
      return true;
    } catch {
      return false;
    }
  };
}

export async function answerAdmin(ctx: RelayContext, req: IncomingMessage, res: ServerResponse, ex: Exchange, check: ((req: IncomingMessage) => boolean) | undefined): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://relay');
  ex.path = url.pathname;
  if (check === undefined) throw new RelayError('not_found', 'Unknown endpoint (the admin API is off: set admin.key).');
  if (!check(req)) throw new RelayError('invalid_api_key', 'Incorrect or missing admin key.');
  if (url.pathname !== '/admin/usage') throw new RelayError('not_found');
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new RelayError('method_not_allowed', 'Use GET for /admin/usage.');
  const store = ctx.usage.store;
  if (store === undefined) throw new RelayError('not_found', 'Usage accounting is off: set usage.database.');
  let query;
  try {
    query = toUsageQuery(url.searchParams.get('since') ?? '7d', url.searchParams.get('by') ?? 'key');
  } catch (err) {
    throw new RelayError('bad_request', (err as Error).message.replace(/^--/, ''));
  }
  // What is still queued counts too; a store that cannot write now still answers with what it has.
  await store.flush().catch(() => undefined);
  const rows = await store.query(query);
  sendJson(res, 200, toUsageJson(rows, query), [...ex.baseHeaders, 'cache-control', 'no-store', 'server-timing', ex.serverTiming()], req.method === 'HEAD');
}
