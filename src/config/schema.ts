import * as z from 'zod';
import { CLIENT_KEY_BUDGET_FIELDS, CLIENT_KEY_FIELDS, clientKeysSchema } from '../auth/client-keys-schema.js';
import { priceTableSchema } from '../usage/prices.js';
import { DEFAULTS } from './defaults.js';

// The config is validated once, at start: zod's compiled fast path (new Function per object
// schema) costs more to build than it saves on one parse (start-up time, issue 3).
z.config({ jitless: true });

/**
 * The config schema. Types mirror the YAML keys verbatim (base_url, connect_timeout) so a key in the
 * README greps straight to the code. YAML's empty value (`api_key:`) is null: it means "default".
 */

function orDefault<T extends z.ZodType>(schema: T, fallback: z.output<T>) {
  return schema.nullish().transform((v): z.output<T> => (v ?? fallback) as z.output<T>);
}

/** A config section: absent or empty (`server:` with nothing under it) means all defaults. */
function section<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.preprocess((v) => v ?? {}, z.strictObject(shape));
}

const seconds = z.number({ error: 'expected a number of seconds' }).positive({ error: 'must be greater than 0' });

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

/** A size in bytes: a number, or a string such as "100mb", "512kb", "1gb". */
const byteSize = z.union([z.number(), z.string()]).transform((v, ctx): number => {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v > 0) return v;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
    const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
    if (m && unit !== undefined && Number(m[1]) > 0) return Math.floor(Number(m[1]) * unit);
  }
  ctx.addIssue({ code: 'custom', message: `expected a positive size in bytes or a string like "100mb", got ${JSON.stringify(v)}` });
  return z.NEVER;
});

/**
 * alias → model. Built with defineProperty on a null-prototype object, so a key such as `__proto__`
 * stays a plain name (zod's record would assign it and change the prototype instead).
 */
const modelMapping = z.unknown().transform((v, ctx): Record<string, string> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const got = Array.isArray(v) ? 'a list' : typeof v;
    ctx.addIssue({ code: 'custom', message: `expected a mapping of model names (alias: model), got ${got}` });
    return z.NEVER;
  }
  const out = Object.create(null) as Record<string, string>;
  for (const [alias, model] of Object.entries(v)) {
    if (typeof model !== 'string' || model === '') {
      ctx.addIssue({ code: 'custom', path: [alias], message: `expected a model name (string), got ${model === null ? 'nothing' : typeof model}` });
      continue;
    }
    Object.defineProperty(out, alias, { value: model, enumerable: true, writable: false, configurable: false });
  }
  return out;
});

const httpUrl = z.string().transform((v, ctx): string => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected an http:// or https:// URL, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `expected an http:// or https:// URL, got protocol ${JSON.stringify(url.protocol)}` });
    return z.NEVER;
  }
  if (url.username || url.password || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'the URL must not carry credentials, a query string or a fragment' });
    return z.NEVER;
  }
  return v;
});

const corsObjectShape = {
  origins: orDefault(z.array(z.string().min(1)), [...DEFAULTS.cors.origins]),
  max_age: orDefault(z.number().int().nonnegative(), DEFAULTS.cors.max_age),
};
const corsSchema = z.union([z.boolean(), z.strictObject(corsObjectShape)]);

const serverShape = {
  port: orDefault(z.number().int().min(0).max(65535, { error: 'expected a port number from 0 to 65535' }), DEFAULTS.server.port),
  host: orDefault(z.string().min(1), DEFAULTS.server.host),
  cors: orDefault(corsSchema, DEFAULTS.server.cors),
  forward_client_ip: orDefault(z.boolean(), DEFAULTS.server.forward_client_ip),
  shutdown_grace: orDefault(z.number().nonnegative(), DEFAULTS.server.shutdown_grace),
  headers_timeout: orDefault(seconds, DEFAULTS.server.headers_timeout),
  request_timeout: orDefault(z.number().nonnegative(), DEFAULTS.server.request_timeout),
  keep_alive_timeout: orDefault(seconds, DEFAULTS.server.keep_alive_timeout),
  max_header_size: orDefault(byteSize, DEFAULTS.server.max_header_size),
};
const backendShape = {
  base_url: orDefault(httpUrl, DEFAULTS.backend.base_url),
  api_key: orDefault(z.string(), DEFAULTS.backend.api_key),
};
const modelShape = {
  override: orDefault(z.string(), DEFAULTS.model.override),
  mapping: orDefault(modelMapping, {}),
  echo_alias: orDefault(z.boolean(), DEFAULTS.model.echo_alias),
  /** Seconds a backend's own /models list is kept (with `backends`). */
  list_ttl: orDefault(z.number().nonnegative(), DEFAULTS.model.list_ttl),
  /** Seconds a backend gets to answer its /models list before it is left out. */
  list_timeout: orDefault(seconds, DEFAULTS.model.list_timeout),
};
const requestShape = {
  timeout: orDefault(seconds, DEFAULTS.request.timeout),
  connect_timeout: orDefault(seconds, DEFAULTS.request.connect_timeout),
  max_body_size: orDefault(byteSize, DEFAULTS.request.max_body_size),
  /** A body kept for retries is held in memory up to this size, and spooled to a temp file above it. */
  spool_above: orDefault(byteSize, DEFAULTS.request.spool_above),
};
const authShape = {
  /** Plain strings, or objects with a name, limits, allowed models, a budget and an expiry. */
  keys: orDefault(clientKeysSchema, []),
};
const stateShape = {
  /** Shared limits for several relays: redis://host:port/db. Empty: limits live in this process. */
  redis_url: orDefault(z.string().regex(/^(rediss?:\/\/.*)?$/, { error: 'expected a redis:// or rediss:// URL' }), ''),
  /** When Redis cannot answer: admit the request (fail_open) or refuse it with 503 (fail_closed). */
  on_redis_error: orDefault(z.enum(['fail_open', 'fail_closed']), 'fail_open'),
  /** Seconds a limit check may wait for Redis before the policy applies. */
  redis_timeout: orDefault(seconds, 0.25),
};
const usageShape = {
  /** Where usage records go: a file path (SQLite) or a postgres:// URL. Empty: no records are kept. */
  database: orDefault(z.string(), ''),
  /** USD per 1M tokens, per model name or `*` glob: {input, output, cached_input}. */
  prices: orDefault(priceTableSchema, {}),
  /** Ask backends for the usage of streamed chat completions (stream_options.include_usage). */
  stream_usage: orDefault(z.boolean(), true),
};
const adminShape = {
  /** Bearer key for /admin/usage. Empty: the admin API is off. */
  key: orDefault(z.string(), ''),
};
const logShape = {
  level: orDefault(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), DEFAULTS.log.level),
  format: orDefault(z.enum(['auto', 'json', 'pretty']), DEFAULTS.log.format),
};
const websocketShape = {
  enabled: orDefault(z.boolean(), DEFAULTS.websocket.enabled),
  /** Seconds without a frame either way before a session is closed; 0 turns the limit off. */
  idle_timeout: orDefault(z.number().nonnegative(), DEFAULTS.websocket.idle_timeout),
};
/** name → value, for a backend's extra headers and query parameters. */
const stringMap = z.record(z.string().min(1), z.union([z.string(), z.number()]).transform(String));

const backendName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'expected a name of letters, digits, ".", "_" or "-" (at most 64)' });
const modelPatterns = z
  .array(z.string().min(1, { error: 'a model pattern must not be empty' }))
  .min(1, { error: 'list at least one model name or pattern ("*" serves every model)' });
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name' });

const backendEntryShape = {
  name: backendName,
  base_url: httpUrl,
  api_key: orDefault(z.string(), ''),
  api_keys: orDefault(z.array(z.string().min(1, { error: 'a key must not be empty' })), []),
  models: orDefault(modelPatterns, ['*']),
  mapping: orDefault(modelMapping, {}),
  weight: orDefault(z.number().positive({ error: 'must be greater than 0' }), 1),
  priority: orDefault(z.number().int().min(0), 0),
  timeout: seconds.nullish(),
  connect_timeout: seconds.nullish(),
  headers: orDefault(stringMap, {}),
  query: orDefault(stringMap, {}),
  /** `authorization` sends `Bearer <key>`; any other name (Azure's `api-key`) sends the key as is. */
  key_header: orDefault(headerName.transform((v) => v.toLowerCase()), 'authorization'),
  /** Whether /v1/models merges this backend's own list. */
  list_models: orDefault(z.boolean(), true),
  /** Whether this backend accepts stream_options (for the usage of streamed chat completions); default usage.stream_usage. */
  stream_usage: z.boolean().nullish(),
};
const backendEntry = z.strictObject(backendEntryShape);
const routeEntryShape = {
  /** An API path prefix, with or without /v1: `/files`, `/v1/batches`. */
  prefix: z.string().regex(/^\//, { error: 'expected a path starting with "/"' }),
  backend: backendName,
};
const routeEntry = z.strictObject(routeEntryShape);
const retryShape = {
  /** Tries in all, the first included; 1 turns retries off. Default: 3 with `backends`, 1 with only `backend`. */
  max_attempts: z.number().int().min(1).max(10).nullish(),
  on_status: orDefault(z.array(z.number().int().min(400).max(599)), [...DEFAULTS.retry.on_status]),
  backoff: orDefault(z.number().nonnegative(), DEFAULTS.retry.backoff),
  max_backoff: orDefault(z.number().nonnegative(), DEFAULTS.retry.max_backoff),
  max_retry_after: orDefault(z.number().nonnegative(), DEFAULTS.retry.max_retry_after),
};
const healthShape = {
  failure_threshold: orDefault(z.number().int().min(1), DEFAULTS.health.failure_threshold),
  cooldown: orDefault(seconds, DEFAULTS.health.cooldown),
  bad_key_cooldown: orDefault(seconds, DEFAULTS.health.bad_key_cooldown),
};

const rootShape = {
  server: section(serverShape),
  backend: section(backendShape),
  model: section(modelShape),
  request: section(requestShape),
  auth: section(authShape),
  log: section(logShape),
  websocket: section(websocketShape),
  backends: z.array(backendEntry).min(1, { error: 'list at least one backend, or leave `backends` out' }).nullish(),
  routes: orDefault(z.array(routeEntry), []),
  retry: section(retryShape),
  health: section(healthShape),
  state: section(stateShape),
  usage: section(usageShape),
  admin: section(adminShape),
};

export const configSchema = z.strictObject(rootShape);

/** The keys each section accepts, for "did you mean" hints on misspelled keys. */
export const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(rootShape),
  server: Object.keys(serverShape),
  'server.cors': Object.keys(corsObjectShape),
  backend: Object.keys(backendShape),
  model: Object.keys(modelShape),
  request: Object.keys(requestShape),
  auth: Object.keys(authShape),
  log: Object.keys(logShape),
  websocket: Object.keys(websocketShape),
  retry: Object.keys(retryShape),
  state: Object.keys(stateShape),
  usage: Object.keys(usageShape),
  admin: Object.keys(adminShape),
  'auth.keys.*': CLIENT_KEY_FIELDS,
  'auth.keys.*.budget': CLIENT_KEY_BUDGET_FIELDS,
  health: Object.keys(healthShape),
  // List entries are looked up with their index as `*`.
  'backends.*': Object.keys(backendEntryShape),
  'routes.*': Object.keys(routeEntryShape),
};

/** The config as the YAML is written, after defaults. */
export type RawRelayConfig = z.output<typeof configSchema>;
