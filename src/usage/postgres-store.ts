import type pg from 'pg';
import { loadDriver } from '../drivers.js';
import type { Logger } from '../log.js';
import { groupExpression, groupOrder, toColumnValues, toUsageRow, USAGE_COLUMNS, type GroupSums } from './columns.js';
import type { UsageRecord } from './record.js';
import type { UsageQuery, UsageRow } from './report.js';
import type { StoreBackend } from './store.js';

/**
 * The PostgreSQL usage store (`usage.database: postgres://...`), for several relay instances
 * writing to one place. A small pool; the table is created on first use (and that is retried
 * like any write, so a database that is down at start-up is not fatal); one multi-row INSERT per
 * batch. Every wait is bounded (connect, statement), so a stuck database fails the write, which
 * is then retried, instead of hanging it.
 */
const CREATE = `
CREATE TABLE IF NOT EXISTS usage (
  time timestamptz NOT NULL,
  request_id text NOT NULL,
  key_name text,
  endpoint text NOT NULL,
  model_asked text,
  model_sent text,
  backend text,
  status integer NOT NULL,
  prompt_tokens bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  cached_tokens bigint NOT NULL,
  reasoning_tokens bigint NOT NULL,
  total_tokens bigint NOT NULL,
  ttft_ms double precision,
  duration_ms double precision NOT NULL,
  cost double precision,
  stream boolean NOT NULL,
  aborted boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_time ON usage (time);
`;

/** PostgreSQL takes at most 65535 parameters in one statement. */
const ROWS_PER_INSERT = 1_000;
/** Two instances creating the table at once: one of them sees one of these; the table is there. */
const ALREADY_EXISTS = new Set(['42P07', '23505']);

export function createPostgresBackend(url: string, log: Logger, describeError: (err: unknown) => string, description: string): StoreBackend {
  const driver = loadDriver<typeof pg>('pg');
  const pool = new driver.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 10_000,
    statement_timeout: 10_000,
    query_timeout: 15_000,
    allowExitOnIdle: true,
  });
  // An idle client's connection dropping is emitted here; unhandled, it would end the process.
  pool.on('error', (err) => log.warn({ store: description, err: describeError(err) }, 'usage store connection lost'));

  let ready: Promise<void> | null = null;
  const ensureTable = (): Promise<void> => {
    ready ??= pool.query(CREATE).then(
      () => undefined,
      (err: unknown) => {
        if (isAlreadyExists(err)) return;
        ready = null;
        throw err;
      },
    );
    return ready;
  };

  return {
    description,
    open: ensureTable,
    async write(batch: readonly UsageRecord[]) {
      await ensureTable();
      if (batch.length <= ROWS_PER_INSERT) {
        await pool.query(insertStatement(batch.length), batch.flatMap(toColumnValues));
        return;
      }
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (let at = 0; at < batch.length; at += ROWS_PER_INSERT) {
          const part = batch.slice(at, at + ROWS_PER_INSERT);
          await client.query(insertStatement(part.length), part.flatMap(toColumnValues));
        }
        await client.query('COMMIT');
        client.release();
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        // A connection in an unknown state is not given back to the pool.
        client.release(true);
        throw err;
      }
    },
    async query(q: UsageQuery): Promise<UsageRow[]> {
      await ensureTable();
      const grp = groupExpression(q.by, `to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')`);
      // Sums of bigint are numeric, which pg returns as strings: float8 comes back as a number
      // (exact up to 2^53 tokens).
      const result = await pool.query<GroupSums>(
        `SELECT ${grp} AS grp, COUNT(*)::float8 AS requests,
           SUM(prompt_tokens)::float8 AS prompt_tokens, SUM(completion_tokens)::float8 AS completion_tokens,
           SUM(cached_tokens)::float8 AS cached_tokens, SUM(reasoning_tokens)::float8 AS reasoning_tokens,
           SUM(total_tokens)::float8 AS total_tokens, SUM(cost) AS cost,
           SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END)::float8 AS errors
         FROM usage WHERE time >= $1 GROUP BY grp ORDER BY ${groupOrder(q.by)}`,
        [q.since.toISOString()],
      );
      return result.rows.map(toUsageRow);
    },
    async close() {
      await pool.end();
    },
  };
}

const statements = new Map<number, string>();

/** `INSERT ... VALUES ($1, ..., $18), ($19, ...)` for n rows, built once per row count. */
function insertStatement(rows: number): string {
  let sql = statements.get(rows);
  if (sql !== undefined) return sql;
  const width = USAGE_COLUMNS.length;
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    tuples.push(`(${USAGE_COLUMNS.map((_, c) => `$${r * width + c + 1}`).join(', ')})`);
  }
  sql = `INSERT INTO usage (${USAGE_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`;
  if (statements.size < 64) statements.set(rows, sql);
  return sql;
}

function isAlreadyExists(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' && ALREADY_EXISTS.has(err.code);
}
