import type { ServerResponse } from 'node:http';
import { RelayError } from '../errors.js';
import type { Exchange } from '../http/exchange.js';
import { sendJson } from '../http/respond.js';
import type { ModelCatalog } from '../models/catalog.js';
import { modelNotFound } from '../routing/route.js';

const MODELS_PREFIX = '/models/';

/** `GET /v1/models` and `GET /v1/models/{id}`: answered by the relay when it has several backends. */
export function isModelsRequest(method: string | undefined, apiPath: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  return apiPath === '/models' || apiPath === '/models/' || (apiPath.startsWith(MODELS_PREFIX) && !apiPath.includes('/', MODELS_PREFIX.length));
}

export async function answerModels(catalog: ModelCatalog, res: ServerResponse, ex: Exchange, apiPath: string): Promise<void> {
  const head = res.req.method === 'HEAD';
  const headers = (): string[] => [...ex.baseHeaders, 'cache-control', 'no-store', 'server-timing', ex.serverTiming()];
  if (apiPath === '/models' || apiPath === '/models/') {
    const data = await catalog.list();
    if (ex.clientGone) return;
    sendJson(res, 200, JSON.stringify({ object: 'list', data }), headers(), head);
    return;
  }
  let id: string;
  try {
    id = decodeURIComponent(apiPath.slice(MODELS_PREFIX.length));
  } catch {
    throw new RelayError('invalid_path', 'The model id in the path is not valid percent-encoding.');
  }
  ex.asked = id;
  const entry = await catalog.get(id);
  if (entry === undefined) throw modelNotFound(id);
  if (ex.clientGone) return;
  sendJson(res, 200, JSON.stringify(entry), headers(), head);
}
