import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

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
};
const requestShape = {
  timeout: orDefault(seconds, DEFAULTS.request.timeout),
  connect_timeout: orDefault(seconds, DEFAULTS.request.connect_timeout),
  max_body_size: orDefault(byteSize, DEFAULTS.request.max_body_size),
};
const authShape = {
  keys: orDefault(z.array(z.string().min(1, { error: 'an access key must not be empty' })), []),
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
const rootShape = {
  server: section(serverShape),
  backend: section(backendShape),
  model: section(modelShape),
  request: section(requestShape),
  auth: section(authShape),
  log: section(logShape),
  websocket: section(websocketShape),
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
};

/** The config as the YAML is written, after defaults. */
export type RawRelayConfig = z.output<typeof configSchema>;
