import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import type * as z from 'zod';
import { resolveBackends, type BackendSpec } from './backends.js';
import { expandEnv, type Env } from './env.js';
import { configSchema, KNOWN_KEYS, type RawRelayConfig } from './schema.js';

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * The config the relay runs on: the YAML's keys, with `backends` always the full resolved list (the
 * seed's `backend:` included) and `retry.max_attempts` decided.
 */
export type RelayConfig = DeepReadonly<
  Omit<RawRelayConfig, 'backends' | 'retry'> & {
    backends: BackendSpec[];
    retry: Omit<RawRelayConfig['retry'], 'max_attempts'> & { max_attempts: number };
  }
>;

/** A config that cannot be used. The message names the file, the key path and what is wrong. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid config ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigOverrides {
  readonly port?: number;
  readonly host?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
}

/** Reads, expands ${ENV}, validates and freezes. Throws ConfigError. A missing file is `{}` only when allowed. */
export async function loadConfig(
  file: string,
  options: { env?: Env; overrides?: ConfigOverrides; allowMissing?: boolean } = {},
): Promise<RelayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.allowMissing) text = '';
    else throw new ConfigError(file, [code === 'ENOENT' ? 'the file does not exist' : `cannot read the file (${code ?? 'error'})`]);
  }
  return parseConfig(text, file, options.env ?? process.env, options.overrides ?? {});
}

/** Pure: config text in, frozen config out (or ConfigError). */
export function parseConfig(text: string, file: string, env: Env, overrides: ConfigOverrides = {}): RelayConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`));
  }
  const tree: unknown = doc.toJS() ?? {};
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    throw new ConfigError(file, ['the top level must be a mapping of sections (server, backend, model, request, auth, log, websocket)']);
  }
  const { value, problems } = expandEnv(tree, env);
  if (problems.length > 0) {
    throw new ConfigError(
      file,
      problems.map((p) => `${p.path}: environment variable ${p.variable} is not set (write \${${p.variable}:-} to allow it empty)`),
    );
  }
  // The file is checked as written first, so a bad value is reported even when a flag would replace it.
  validate(value, file);
  const raw = validate(applyOverrides(value as Record<string, unknown>, overrides), file);
  const resolved = resolveBackends(raw, { backend: 'backend' in tree });
  if (!resolved.ok) throw new ConfigError(file, resolved.problems);
  return deepFreeze({
    ...raw,
    backends: resolved.backends,
    retry: { ...raw.retry, max_attempts: resolved.maxAttempts },
    usage: { ...raw.usage, database: besideConfig(raw.usage.database, file) },
  });
}

/** A relative SQLite path is the config file's neighbour, whoever starts the relay (or the usage command) and from where. */
function besideConfig(database: string, file: string): string {
  if (database === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(database) || isAbsolute(database) || database === ':memory:') return database;
  return join(dirname(file), database);
}

function validate(tree: unknown, file: string): RawRelayConfig {
  const result = configSchema.safeParse(tree);
  if (!result.success) throw new ConfigError(file, result.error.issues.flatMap((issue) => describeIssue(issue, tree)));
  return result.data;
}

function applyOverrides(tree: Record<string, unknown>, o: ConfigOverrides): Record<string, unknown> {
  const out = { ...tree };
  const merge = (sectionName: string, patch: Record<string, unknown>): void => {
    const current = out[sectionName];
    out[sectionName] = { ...(typeof current === 'object' && current !== null ? current : {}), ...patch };
  };
  if (o.port !== undefined) merge('server', { port: o.port });
  if (o.host !== undefined) merge('server', { host: o.host });
  if (o.logLevel !== undefined) merge('log', { level: o.logLevel });
  if (o.logFormat !== undefined) merge('log', { format: o.logFormat });
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, tree: unknown): string[] {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const where = path ? `${path}.${key}` : key;
      const hint = suggest(key, KNOWN_KEYS[path.replace(/\.\d+(?=\.|$)/g, '.*')] ?? []);
      return `${where}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`;
    });
  }
  if (issue.code === 'invalid_union') {
    return [`${path}: expected ${path === 'server.cors' ? 'true, false or {origins: [...], max_age: N}' : 'a different type'}, got ${describeValue(valueAt(tree, issue.path))}`];
  }
  if (issue.code === 'invalid_type') {
    return [`${path}: expected ${issue.expected}, got ${describeValue(valueAt(tree, issue.path))}`];
  }
  if (issue.code === 'invalid_value') {
    return [`${path}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(valueAt(tree, issue.path))}`];
  }
  return [`${path}: ${issue.message}`];
}

function valueAt(tree: unknown, path: readonly PropertyKey[]): unknown {
  let node = tree;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** The closest known key within two edits, for "did you mean". */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
