import type { RawRelayConfig } from './schema.js';

/**
 * The backends the relay serves from, whichever way they were written. The seed's single `backend:`
 * block is one backend named `default` serving every model; written beside a `backends:` list it
 * becomes the last tier (a catch-all used when no listed backend can serve a model). Every optional
 * value is resolved here, once, so the request path reads plain fields.
 */
export interface BackendSpec {
  readonly name: string;
  readonly base_url: string;
  /** Used in turn; empty means the client's own key passes through. */
  readonly keys: readonly string[];
  readonly models: readonly string[];
  readonly mapping: Readonly<Record<string, string>>;
  readonly weight: number;
  readonly priority: number;
  readonly timeout: number;
  readonly connect_timeout: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly key_header: string;
  readonly list_models: boolean;
  /** Whether the relay may add stream_options.include_usage to this backend's streamed chat requests. */
  readonly stream_usage: boolean;
}

export type BackendsResult = { ok: true; backends: BackendSpec[]; maxAttempts: number } | { ok: false; problems: string[] };

/** Pure: the validated config and whether the file wrote `backend:` / `retry.max_attempts` in, the backend list out. */
export function resolveBackends(config: RawRelayConfig, written: { backend: boolean }): BackendsResult {
  const problems: string[] = [];
  const listed = config.backends ?? [];
  const backends: BackendSpec[] = listed.map((b, i) => {
    if (b.api_key !== '' && b.api_keys.length > 0) problems.push(`backends.${i}: set api_key or api_keys, not both`);
    return {
      name: b.name,
      base_url: b.base_url,
      keys: b.api_keys.length > 0 ? b.api_keys : b.api_key === '' ? [] : [b.api_key],
      models: b.models,
      mapping: b.mapping,
      weight: b.weight,
      priority: b.priority,
      timeout: b.timeout ?? config.request.timeout,
      connect_timeout: b.connect_timeout ?? config.request.connect_timeout,
      headers: b.headers,
      query: b.query,
      key_header: b.key_header,
      list_models: b.list_models,
      stream_usage: b.stream_usage ?? config.usage.stream_usage,
    };
  });
  if (listed.length === 0 || written.backend) {
    const lowest = backends.reduce((max, b) => Math.max(max, b.priority + 1), 0);
    backends.push({
      name: 'default',
      base_url: config.backend.base_url,
      keys: config.backend.api_key === '' ? [] : [config.backend.api_key],
      models: ['*'],
      mapping: {},
      weight: 1,
      priority: lowest,
      timeout: config.request.timeout,
      connect_timeout: config.request.connect_timeout,
      headers: {},
      query: {},
      key_header: 'authorization',
      list_models: true,
      stream_usage: config.usage.stream_usage,
    });
  }
  const seen = new Map<string, number>();
  backends.forEach((b, i) => {
    const first = seen.get(b.name);
    if (first === undefined) seen.set(b.name, i);
    else problems.push(i < listed.length ? `backends.${i}.name: "${b.name}" is already the name of backends.${first}` : `backend: the \`backend:\` block is the backend named "default", and backends.${first} has that name too`);
  });
  config.routes.forEach((r, i) => {
    if (!seen.has(r.backend)) problems.push(`routes.${i}.backend: no backend is named "${r.backend}" (known: ${[...seen.keys()].join(', ')})`);
  });
  if (problems.length > 0) return { ok: false, problems };
  const maxAttempts = config.retry.max_attempts ?? (listed.length > 0 ? 3 : 1);
  return { ok: true, backends, maxAttempts };
}
