import type { BackendSpec } from '../config/backends.js';
import { createRequestHeaderPolicy, type RequestHeaderPolicy } from '../proxy/headers.js';
import { createModelResolver, type ModelResolver } from '../proxy/model-policy.js';
import { toUpstreamPath, type Target } from '../proxy/target.js';
import { fingerprint } from '../secret.js';
import { createUpstream, type Upstream } from './client.js';

/**
 * A backend at run time: its connection pool, one header policy per key (the key and extra headers
 * decided once, at start), its own model names, and its query parameters (Azure's api-version).
 */
export interface Backend {
  readonly index: number;
  readonly name: string;
  readonly spec: BackendSpec;
  readonly upstream: Upstream;
  /** One per key; one (pass-through) when the backend has no key. */
  readonly policies: readonly RequestHeaderPolicy[];
  /** Short key fingerprints, for logs; '' for pass-through. */
  readonly fingerprints: readonly string[];
  readonly hasKeys: boolean;
  /** The name this backend uses for a model (its `mapping`); identity when it has none. */
  readonly mapModel: ModelResolver;
  /** Base path + the request's path, with the backend's query parameters set. */
  path(target: Target): string;
}

export function createBackend(spec: BackendSpec, index: number, options: { forwardClientIp: boolean }): Backend {
  const upstream = createUpstream({ name: spec.name, base_url: spec.base_url, timeout: spec.timeout, connect_timeout: spec.connect_timeout });
  const keys = spec.keys.length > 0 ? spec.keys : [''];
  const policies = keys.map((apiKey) =>
    createRequestHeaderPolicy({ apiKey, forwardClientIp: options.forwardClientIp, keyHeader: spec.key_header, extra: spec.headers }),
  );
  const query = Object.entries(spec.query);
  return {
    index,
    name: spec.name,
    spec,
    upstream,
    policies,
    fingerprints: keys.map((k) => (k === '' ? '' : fingerprint(k))),
    hasKeys: spec.keys.length > 0,
    mapModel: createModelResolver({ override: '', mapping: spec.mapping }),
    path:
      query.length === 0
        ? (target) => toUpstreamPath(upstream.basePath, target)
        : (target) => toUpstreamPath(upstream.basePath, { apiPath: target.apiPath, query: withQuery(target.query, query) }),
  };
}

/**
 * The client's query with the backend's parameters set: the client's own pairs keep their bytes,
 * those with a name the backend sets are replaced.
 */
export function withQuery(clientQuery: string, set: readonly (readonly [string, string])[]): string {
  const names = new Set(set.map(([name]) => name));
  const kept = clientQuery
    .replace(/^\?/, '')
    .split('&')
    .filter((pair) => pair !== '' && !names.has(decodeName(pair)));
  for (const [name, value] of set) kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return kept.length === 0 ? '' : `?${kept.join('&')}`;
}

function decodeName(pair: string): string {
  const raw = pair.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** Largest /models answer read from a backend. */
const MODELS_LIMIT = 8 * 1024 * 1024;

/** The backend's own `GET /models` list (`data`), with its first key. Rejects on any failure. */
export async function fetchBackendModels(backend: Backend, timeoutMs: number): Promise<readonly unknown[]> {
  const policy = backend.policies[0] as RequestHeaderPolicy;
  const call = backend.upstream.send({
    method: 'GET',
    path: backend.path({ apiPath: '/models', query: '' }),
    headers: [...policy.inject, 'accept', 'application/json'],
    body: null,
  });
  const timer = setTimeout(() => call.cancel(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const up = await call.head;
    const body = up.readable();
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MODELS_LIMIT) {
        body.destroy();
        throw new Error(`the /models answer is larger than ${MODELS_LIMIT} bytes`);
      }
      chunks.push(chunk);
    }
  } finally {
    clearTimeout(timer);
  }
  const up = call;
  if (up.statusCode !== 200) throw new Error(`the backend answered /models with ${up.statusCode}`);
  const parsed: unknown = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  const data = typeof parsed === 'object' && parsed !== null ? (parsed as { data?: unknown }).data : undefined;
  if (!Array.isArray(data)) throw new Error('the /models answer has no "data" list');
  return data as unknown[];
}
