import * as z from 'zod';
import { fingerprint } from '../secret.js';

/**
 * One `auth.keys` entry (issue 5). A plain string keeps working: it is a key with no limits, named
 * `key-<fingerprint>` so logs and usage records can tell keys apart without ever showing one. An
 * object names the client and carries its limits:
 *
 *   - name: alice                # required, unique: what logs, usage records and limits key on
 *     key: ${ALICE_KEY}
 *     models: [gpt-4o*, o3-mini] # names or `*` globs; absent = every model
 *     rpm: 60                    # requests per minute
 *     tpm: 100000                # tokens per minute
 *     max_concurrency: 4         # requests in flight, streams included
 *     budget: { cost: 20, period: month }   # or { tokens: 1000000, period: day }; UTC periods
 *     expires_at: 2026-01-01     # ISO date or date-time; without an offset it is UTC
 *
 * YAML's empty value (`rpm:`) means "not set", as everywhere else in the config.
 */

export type BudgetPeriod = 'day' | 'month';

/** Exactly one of tokens / cost (USD) is set. */
export interface ClientKeyBudget {
  readonly tokens?: number;
  readonly cost?: number;
  readonly period: BudgetPeriod;
}

export interface ClientKeySpec {
  readonly name: string;
  readonly key: string;
  /** Allowed model names and globs; undefined allows every model. */
  readonly models?: readonly string[];
  readonly rpm?: number;
  readonly tpm?: number;
  readonly max_concurrency?: number;
  readonly budget?: ClientKeyBudget;
  /** When the key stops working, in milliseconds since the epoch. */
  readonly expires_at?: number;
}

const positiveInt = z
  .number({ error: 'expected a whole number greater than 0' })
  .int({ error: 'expected a whole number greater than 0' })
  .positive({ error: 'expected a whole number greater than 0' });
const positive = z.number({ error: 'expected a number greater than 0' }).positive({ error: 'expected a number greater than 0' });

/** `null` (YAML's empty value) reads as "not set". */
function optional<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((v): z.output<T> | undefined => v ?? undefined);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** An ISO 8601 date or date-time (UTC when no offset is written), or a Date from a YAML 1.1 timestamp. */
const expiresAt = z.unknown().transform((v, ctx): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) {
    if (Number.isFinite(v.getTime())) return v.getTime();
  } else if (typeof v === 'string') {
    const m = ISO_DATE.exec(v.trim());
    if (m) {
      const text = m[4] === undefined ? `${m[1]}-${m[2]}-${m[3]}T00:00:00Z` : `${v.trim().replace(' ', 'T')}${m[7] === undefined ? 'Z' : ''}`;
      const ms = Date.parse(text);
      // Date.parse rolls 2025-02-30 over to March: the calendar date must survive the round trip.
      if (Number.isFinite(ms) && (m[7] !== undefined || new Date(ms).toISOString().startsWith(`${m[1]}-${m[2]}-${m[3]}`))) return ms;
    }
  }
  ctx.addIssue({ code: 'custom', message: `expected an ISO date such as "2026-01-31" or "2026-01-31T18:00:00Z", got ${JSON.stringify(v)}` });
  return z.NEVER;
});

const budgetShape = {
  tokens: optional(positive),
  cost: optional(positive),
  period: z.enum(['day', 'month']),
};

/** The keys a budget accepts, for "did you mean" hints (path `auth.keys.*.budget`). */
export const CLIENT_KEY_BUDGET_FIELDS: readonly string[] = Object.keys(budgetShape);

const budgetSchema = z
  .strictObject(budgetShape)
  .transform((b, ctx): ClientKeyBudget => {
    if ((b.tokens === undefined) === (b.cost === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of tokens or cost (USD)' });
      return z.NEVER;
    }
    return b.tokens === undefined ? { cost: b.cost, period: b.period } : { tokens: b.tokens, period: b.period };
  });

const objectShape = {
  name: z.string({ error: 'expected a name (string)' }).trim().min(1, { error: 'a key needs a name' }),
  key: z.string({ error: 'expected the key (string)' }).min(1, { error: 'an access key must not be empty' }),
  models: optional(
    z
      .array(z.string().min(1, { error: 'a model name must not be empty' }))
      .min(1, { error: 'an empty list allows no model: leave models out to allow every model' }),
  ),
  rpm: optional(positiveInt),
  tpm: optional(positiveInt),
  max_concurrency: optional(positiveInt),
  budget: optional(budgetSchema),
  expires_at: expiresAt.optional(),
};

/** The keys an object entry accepts, for the loader's "did you mean" hints (path `auth.keys.*`). */
export const CLIENT_KEY_FIELDS: readonly string[] = Object.keys(objectShape);

const objectSchema = z.strictObject(objectShape).transform((o): ClientKeySpec => {
  const spec: { -readonly [K in keyof ClientKeySpec]: ClientKeySpec[K] } = { name: o.name, key: o.key };
  if (o.models !== undefined) spec.models = Object.freeze([...o.models]);
  if (o.rpm !== undefined) spec.rpm = o.rpm;
  if (o.tpm !== undefined) spec.tpm = o.tpm;
  if (o.max_concurrency !== undefined) spec.max_concurrency = o.max_concurrency;
  if (o.budget !== undefined) spec.budget = o.budget;
  if (o.expires_at !== undefined) spec.expires_at = o.expires_at;
  return spec;
});

/** A plain string becomes `{name: key-<fingerprint>, key}` before the object rules apply. */
export const clientKeySchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: plainKeyName(v), key: v } : v),
  objectSchema,
);

/** The whole `auth.keys` list: each entry, then names and keys unique across entries. */
export const clientKeysSchema = z.array(clientKeySchema).superRefine((specs, ctx) => {
  for (const p of findDuplicateKeys(specs)) ctx.addIssue({ code: 'custom', path: [p.index, p.field], message: p.message });
});

export function plainKeyName(key: string): string {
  return `key-${fingerprint(key)}`;
}

/**
 * Names and keys must be unique: a name is what limits and usage records are kept under, and two
 * entries with one key would make the match ambiguous. Messages name the indexes, never the key,
 * in the loader's path style: `auth.keys.2.name: "alice" is already the name of auth.keys.0`.
 */
export function checkClientKeys(specs: readonly ClientKeySpec[], path = 'auth.keys'): string[] {
  return findDuplicateKeys(specs, path).map((p) => `${path}.${p.index}.${p.field}: ${p.message}`);
}

interface Duplicate {
  readonly index: number;
  readonly field: 'name' | 'key';
  readonly message: string;
}

function findDuplicateKeys(specs: readonly ClientKeySpec[], path = 'auth.keys'): Duplicate[] {
  const problems: Duplicate[] = [];
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  specs.forEach((spec, index) => {
    const byName = names.get(spec.name);
    if (byName === undefined) names.set(spec.name, index);
    else problems.push({ index, field: 'name', message: `${JSON.stringify(spec.name)} is already the name of ${path}.${byName}` });
    const byKey = keys.get(spec.key);
    if (byKey === undefined) keys.set(spec.key, index);
    else problems.push({ index, field: 'key', message: `the same key as ${path}.${byKey}: each client needs its own key` });
  });
  return problems;
}
