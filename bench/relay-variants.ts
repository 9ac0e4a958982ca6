/**
 * The relay targets: the plain `relay` and named variants of it that differ ONLY by a config
 * overlay applied to the base config of relay-config.ts (same command, same process pinning, same
 * load). A scenario lists the variants it compares in its `targets`, e.g. F: ['relay', 'relay-routed'].
 *
 * Adding a variant is one entry in RELAY_VARIANTS below. The overlay maps top-level config keys to
 * their new value: a key replaces the base's section whole, `null` removes it. For example issue 5's
 * accounting variant (scenario G) is:
 *
 *   {
 *     name: 'relay-usage',
 *     description: 'accounting on: usage recorded to SQLite',
 *     overlay: ({ tempDir }) => ({ usage: { database: join(tempDir, USAGE_DB_FILE), prices: {…} } }),
 *     upstreamKey: BACKEND_API_KEY,
 *     usageDatabaseFile: USAGE_DB_FILE,
 *   },
 *
 * then a scenario with `targets: ['relay', 'relay-usage']` and a goal in goals.ts. The name becomes
 * a `--targets` value, a column of the results table and a `<variant>/relay` ratio column.
 */
import { join } from 'node:path';
import { BACKEND_API_KEY, MAPPED_MODEL } from './payloads.js';

/** Top-level config key → its replacement (`null`: the key is left out of the file). */
export type ConfigOverlay = Readonly<Record<string, unknown>>;

export interface OverlayInput {
  /** The mock upstream every backend points at. */
  readonly upstreamBaseUrl: string;
  /** A fresh directory for this relay process (databases, spool files). */
  readonly tempDir: string;
}

export interface RelayVariant {
  readonly name: string;
  readonly description: string;
  readonly overlay: (input: OverlayInput) => ConfigOverlay;
  /** The key the mock upstream must see in `Authorization: Bearer …` for the bench's chat request. */
  readonly upstreamKey: string;
  /** The SQLite usage database the overlay writes, relative to `tempDir`; none when accounting is off. */
  readonly usageDatabaseFile?: string;
}

/** relay-routed: 10 backends b0..b9, 5 model patterns each (50), the request's model matched last. */
export const ROUTED_BACKEND_COUNT = 10;
const ROUTED_LAST = ROUTED_BACKEND_COUNT - 1;

export function createRoutedKey(index: number): string {
  return `sk-bench-b${index}`;
}

/**
 * Five patterns per backend, exact names and globs mixed. Only the last pattern of the last
 * backend (`gpt-4-turbo*`) matches the model the relay routes by (gpt-4 mapped to gpt-4-turbo by
 * the global model.mapping), so the lookup walks every other pattern first.
 */
export function createRoutedPatterns(index: number): string[] {
  return [
    `model-b${index}-mini`,
    `family-b${index}-*`,
    `model-b${index}-large`,
    `*-b${index}-preview`,
    index === ROUTED_LAST ? `${MAPPED_MODEL}*` : `model-b${index}-vision`,
  ];
}

function createRoutedOverlay(input: OverlayInput): ConfigOverlay {
  const backends = Array.from({ length: ROUTED_BACKEND_COUNT }, (_, index) => ({
    name: `b${index}`,
    base_url: input.upstreamBaseUrl,
    api_key: createRoutedKey(index),
    models: createRoutedPatterns(index),
  }));
  return {
    // Without the single `backend:` block: written beside `backends:` it would become a catch-all tier.
    backend: null,
    backends,
    retry: { max_attempts: 3 },
  };
}

/** relay-usage: the usage database, in the relay process's own temp dir. */
export const USAGE_DB_FILE = 'usage.db';

/**
 * Accounting on (issue 5): with `usage.database` set the relay reads every response's usage, asks
 * backends for the usage of streams (`stream_options.include_usage`, `stream_usage` defaults to
 * true) and strips what it added, prices the mapped model and writes records to SQLite in batches.
 */
function createUsageOverlay(input: OverlayInput): ConfigOverlay {
  return {
    usage: {
      database: join(input.tempDir, USAGE_DB_FILE),
      prices: { [MAPPED_MODEL]: { input: 10, output: 30 } },
    },
  };
}

export const RELAY_VARIANTS = [
  {
    name: 'relay',
    description: 'one backend (the `backend:` block), key injection and model mapping',
    overlay: () => ({}),
    upstreamKey: BACKEND_API_KEY,
  },
  {
    name: 'relay-routed',
    description:
      `\`backends:\` instead of \`backend:\` (${ROUTED_BACKEND_COUNT} backends, 50 model patterns, the ` +
      `request's model matched by b${ROUTED_LAST}'s last pattern), retry.max_attempts 3`,
    overlay: createRoutedOverlay,
    upstreamKey: createRoutedKey(ROUTED_LAST),
  },
  {
    name: 'relay-usage',
    description: `accounting on: \`usage.database\` (SQLite, ${USAGE_DB_FILE} in a temp dir) and a price for ${MAPPED_MODEL}`,
    overlay: createUsageOverlay,
    upstreamKey: BACKEND_API_KEY,
    usageDatabaseFile: USAGE_DB_FILE,
  },
] as const satisfies readonly RelayVariant[];

export type RelayVariantName = (typeof RELAY_VARIANTS)[number]['name'];

export const RELAY_VARIANT_NAMES: readonly RelayVariantName[] = RELAY_VARIANTS.map((variant) => variant.name);

export function findRelayVariant(name: string): RelayVariant | undefined {
  return RELAY_VARIANTS.find((variant) => variant.name === name);
}
