import type Database from 'better-sqlite3';
import { loadDriver } from '../drivers.js';
import {
  groupExpression,
  groupOrder,
  OWN_COLUMNS,
  SHARED_COLUMNS,
  sharesColumns,
  toUsageRow,
  USAGE_COLUMNS,
  type ColumnValue,
  type GroupSums,
  writeColumnValues,
  writeOwnValues,
  writeSharedValues,
} from './columns.js';
import type { UsageRecord } from './record.js';
import type { UsageQuery, UsageRow } from './report.js';
import type { StoreBackend } from './store.js';

/**
 * The SQLite usage store (the default, `usage.database: ./usage.db`): one file in WAL mode, so the
 * `usage` command can read while the relay writes. better-sqlite3 is synchronous: a batch of a few
 * hundred rows in one transaction takes about a millisecond, which is why records are batched.
 * The database is opened lazily, at the first write or query, and reopened after a failed write,
 * so a store that cannot be opened now (a missing directory, a full disk) is retried, not fatal.
 */
const CREATE = `
CREATE TABLE IF NOT EXISTS usage (
  time TEXT NOT NULL,
  request_id TEXT NOT NULL,
  key_name TEXT,
  endpoint TEXT NOT NULL,
  model_asked TEXT,
  model_sent TEXT,
  backend TEXT,
  status INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  ttft_ms REAL,
  duration_ms REAL NOT NULL,
  cost REAL,
  stream INTEGER NOT NULL,
  aborted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_time ON usage (time);
`;

/** Rows per INSERT statement: one statement per row costs more than the row itself (issue 5 bench). */
const ROWS_PER_INSERT = 50;
const ROW = `(${USAGE_COLUMNS.map(() => '?').join(', ')})`;
const insertSql = (rows: number): string => `INSERT INTO usage (${USAGE_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => ROW).join(', ')}`;
/**
 * ROWS_PER_INSERT rows that share the SHARED_COLUMNS values (one client, endpoint, model and
 * backend: most runs of traffic), those values bound once: `?`s are numbered in the order they
 * appear, so the five shared values come first, then each row's own.
 */
const OWN_ROW = `(${OWN_COLUMNS.map(() => '?').join(', ')})`;
const SHARED_RUN_SQL =
  `INSERT INTO usage (${[...OWN_COLUMNS, ...SHARED_COLUMNS].join(', ')}) ` +
  `SELECT *, ${SHARED_COLUMNS.map(() => '?').join(', ')} FROM (VALUES ${Array.from({ length: ROWS_PER_INSERT }, () => OWN_ROW).join(', ')})`;

/** Whether the ROWS_PER_INSERT records from `from` all share the first one's SHARED_COLUMNS values. */
function isSharedRun(records: readonly UsageRecord[], from: number): boolean {
  const first = records[from] as UsageRecord;
  for (let j = from + 1; j < from + ROWS_PER_INSERT; j++) if (!sharesColumns(first, records[j] as UsageRecord)) return false;
  return true;
}

interface Open {
  readonly db: Database.Database;
  readonly insertMany: (records: readonly UsageRecord[]) => void;
}

export function createSqliteBackend(path: string): StoreBackend {
  let open: Open | null = null;

  const ensureOpen = (): Open => {
    if (open !== null) return open;
    const Driver = loadDriver<typeof Database>('better-sqlite3');
    const db = new Driver(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // A lock held by another process fails the write quickly (it is retried) rather than
      // blocking the event loop.
      db.pragma('busy_timeout = 50');
      db.exec(CREATE);
      const insertOne = db.prepare(insertSql(1));
      const insertBlock = db.prepare(insertSql(ROWS_PER_INSERT));
      const insertRun = db.prepare(SHARED_RUN_SQL);
      // Values go in as arguments, not as one array: better-sqlite3 reads an array element by
      // element through V8's C++ API, about 0.4 µs more per row (issue 5 bench). The arrays are
      // made once and overwritten: run() is done with them when it returns.
      const block = new Array<ColumnValue>(ROWS_PER_INSERT * USAGE_COLUMNS.length).fill(null);
      const run = new Array<ColumnValue>(SHARED_COLUMNS.length + ROWS_PER_INSERT * OWN_COLUMNS.length).fill(null);
      const one = new Array<ColumnValue>(USAGE_COLUMNS.length).fill(null);
      const insertMany = db.transaction((records: readonly UsageRecord[]) => {
        let i = 0;
        for (; i + ROWS_PER_INSERT <= records.length; i += ROWS_PER_INSERT) {
          if (isSharedRun(records, i)) {
            let at = writeSharedValues(run, 0, records[i] as UsageRecord);
            for (let j = i; j < i + ROWS_PER_INSERT; j++) at = writeOwnValues(run, at, records[j] as UsageRecord, true);
            insertRun.run(...run);
          } else {
            let at = 0;
            for (let j = i; j < i + ROWS_PER_INSERT; j++) at = writeColumnValues(block, at, records[j] as UsageRecord, true);
            insertBlock.run(...block);
          }
        }
        for (; i < records.length; i++) {
          writeColumnValues(one, 0, records[i] as UsageRecord, true);
          insertOne.run(...one);
        }
      });
      open = { db, insertMany };
      return open;
    } catch (err) {
      db.close();
      throw err;
    }
  };

  const reset = (): void => {
    if (open === null) return;
    try {
      open.db.close();
    } catch {
      // Already unusable; a fresh handle is opened at the next attempt.
    }
    open = null;
  };

  return {
    description: path,
    async open() {
      ensureOpen();
    },
    async write(batch) {
      try {
        ensureOpen().insertMany(batch);
      } catch (err) {
        reset();
        throw err;
      }
    },
    async query(q: UsageQuery): Promise<UsageRow[]> {
      const { db } = ensureOpen();
      const grp = groupExpression(q.by, 'substr(time, 1, 10)');
      const rows = db
        .prepare(
          `SELECT ${grp} AS grp, COUNT(*) AS requests,
             SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
             SUM(cached_tokens) AS cached_tokens, SUM(reasoning_tokens) AS reasoning_tokens,
             SUM(total_tokens) AS total_tokens, SUM(cost) AS cost,
             SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors
           FROM usage WHERE time >= ? GROUP BY grp ORDER BY ${groupOrder(q.by)}`,
        )
        .all(q.since.toISOString()) as GroupSums[];
      return rows.map(toUsageRow);
    },
    async close() {
      reset();
    },
  };
}
