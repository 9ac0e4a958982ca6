import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RelayConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { formatUsageTable, parseSince, sumRows, USAGE_GROUPINGS, type UsageGrouping, type UsageRow } from './report.js';
import { isPostgresUrl, openUsageStore } from './store.js';

/** What `relay-bartender usage` and `GET /admin/usage` ask for, validated. Throws Error with a readable message. */
export function toUsageQuery(since: string, by: string, now = new Date()): { since: Date; by: UsageGrouping } {
  if (!(USAGE_GROUPINGS as readonly string[]).includes(by)) throw new Error(`--by: expected one of ${USAGE_GROUPINGS.join(', ')}, got "${by}"`);
  return { since: parseSince(since, now), by: by as UsageGrouping };
}

/** The JSON answer of the report: rows, the total line, and what was asked. */
export function toUsageJson(rows: readonly UsageRow[], query: { since: Date; by: UsageGrouping }): string {
  return JSON.stringify({ object: 'usage.report', since: query.since.toISOString(), by: query.by, data: rows, total: sumRows(rows) });
}

/** `relay-bartender usage`: reads the store named by usage.database and prints the report. Returns the exit code. */
export async function runUsageCommand(config: RelayConfig, log: Logger, options: { since: string; by: string; json: boolean }, out: (text: string) => void): Promise<number> {
  if (config.usage.database === '') {
    out('usage.database is not set in the config: no usage records are kept.\n');
    return 1;
  }
  const query = toUsageQuery(options.since, options.by);
  if (!isPostgresUrl(config.usage.database) && !existsSync(config.usage.database)) {
    out(`no usage database at ${resolve(config.usage.database)}: nothing has been recorded there yet.\n`);
    return 1;
  }
  const store = await openUsageStore(config.usage.database, { log, closeAttempts: 1 });
  try {
    const rows = await store.query(query);
    out(options.json ? `${toUsageJson(rows, query)}\n` : `${formatUsageTable(rows, query.by)}\n`);
    return 0;
  } finally {
    await store.close().catch(() => undefined);
  }
}
