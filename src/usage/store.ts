import type { Logger } from '../log.js';
import { Batcher } from './batcher.js';
import type { UsageRecord } from './record.js';
import type { UsageQuery, UsageRow } from './report.js';

/**
 * Where usage records go (issue 5): `usage.database` is a file path (SQLite) or a `postgres://` /
 * `postgresql://` URL (PostgreSQL, for several instances). Either way, `add` only queues the record
 * in memory, and a Batcher writes batches off the request path; see batcher.ts for retries, the
 * bounded queue and what `close` guarantees.
 */
export interface UsageStore {
  /** Queues a record. Never blocks, never throws. */
  add(record: UsageRecord): void;
  /** Writes every queued record now; rejects when a write fails (the records stay queued). */
  flush(): Promise<void>;
  /** Writes what is left (a bounded number of attempts), then closes the database. */
  close(): Promise<void>;
  /** Sums of what is written (records still queued are not counted: flush first). */
  query(q: UsageQuery): Promise<UsageRow[]>;
  /** Records queued or being written. */
  readonly pending: number;
}

export interface UsageStoreOptions {
  readonly log: Logger;
  /** Records per write (default 200: a record queued longer lives through two young-generation collections under load, and V8 moves it to the old generation). */
  readonly batchSize?: number;
  /** Longest a record waits in the queue when the store is healthy (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** Queue bound; past it the oldest records are dropped (default 100 000). */
  readonly maxPending?: number;
  /** First retry delay after a failed write, doubled each time up to retryMaxMs (500 ms, 30 s). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Write attempts on close (default 4). */
  readonly closeAttempts?: number;
}

/** What a database adds under the Batcher: one write per batch, the report query, close. */
export interface StoreBackend {
  /** The target for log lines, password masked. */
  readonly description: string;
  /** Opens the database and creates the table when missing (also done lazily by write and query). */
  open(): Promise<void>;
  write(batch: readonly UsageRecord[]): Promise<void>;
  query(q: UsageQuery): Promise<UsageRow[]>;
  close(): Promise<void>;
}

export const USAGE_STORE_DEFAULTS = Object.freeze({
  batchSize: 200,
  flushIntervalMs: 1_000,
  maxPending: 100_000,
  retryBaseMs: 500,
  retryMaxMs: 30_000,
  closeAttempts: 4,
});

export function isPostgresUrl(target: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(target);
}

export async function openUsageStore(target: string, options: UsageStoreOptions): Promise<UsageStore> {
  const { log } = options;
  const secrets = postgresSecrets(target);
  const describeError = (err: unknown): string => mask(err instanceof Error ? err.message : String(err), secrets);
  let backend: StoreBackend;
  if (isPostgresUrl(target)) {
    const { createPostgresBackend } = await import('./postgres-store.js');
    backend = createPostgresBackend(target, log, describeError, maskedUrl(target));
  } else {
    const { createSqliteBackend } = await import('./sqlite-store.js');
    backend = createSqliteBackend(target);
  }

  const batcher = new Batcher<UsageRecord>({
    write: (batch) => backend.write(batch),
    log,
    batchSize: positive(options.batchSize, USAGE_STORE_DEFAULTS.batchSize),
    flushIntervalMs: positive(options.flushIntervalMs, USAGE_STORE_DEFAULTS.flushIntervalMs),
    maxPending: positive(options.maxPending, USAGE_STORE_DEFAULTS.maxPending),
    retryBaseMs: positive(options.retryBaseMs, USAGE_STORE_DEFAULTS.retryBaseMs),
    retryMaxMs: positive(options.retryMaxMs, USAGE_STORE_DEFAULTS.retryMaxMs),
    closeAttempts: positive(options.closeAttempts, USAGE_STORE_DEFAULTS.closeAttempts),
    describeError,
    store: backend.description,
  });

  // Said at start-up rather than at the first flush; not awaited, and not fatal: writes retry.
  backend.open().then(
    () => log.debug({ store: backend.description }, 'usage store ready'),
    (err: unknown) => log.warn({ store: backend.description, err: describeError(err) }, 'usage store not available yet; records are kept and retried'),
  );

  let closed: Promise<void> | null = null;
  return {
    add(record) {
      try {
        batcher.add(record);
      } catch (err) {
        log.error({ store: backend.description, err: describeError(err) }, 'usage record could not be queued');
      }
    },
    flush: () => batcher.flush(),
    close() {
      closed ??= batcher.close().then(() => backend.close());
      return closed;
    },
    query: (q) => backend.query(q),
    get pending() {
      return batcher.pending;
    },
  };
}

/** A postgres URL with its password replaced by `***`, for log lines. */
export function maskedUrl(target: string): string {
  try {
    const url = new URL(target);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

function postgresSecrets(target: string): string[] {
  if (!isPostgresUrl(target)) return [];
  try {
    const { password } = new URL(target);
    if (password === '') return [];
    return [...new Set([target, password, safeDecode(password)])].sort((a, b) => b.length - a.length);
  } catch {
    return [target];
  }
}

function mask(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) if (s !== '') out = out.replaceAll(s, '***');
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}
