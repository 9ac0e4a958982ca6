/**
 * Usage reports (issue 5): the query the stores answer, the rows they give back, `--since`
 * parsing and the text table printed by `relay-bartender usage`.
 */

export type UsageGrouping = 'key' | 'model' | 'backend' | 'day';

export const USAGE_GROUPINGS: readonly UsageGrouping[] = ['key', 'model', 'backend', 'day'];

export interface UsageQuery {
  /** Records at or after this instant. */
  readonly since: Date;
  /**
   * key: the key's name; model: the model sent (else the model asked); backend: the backend's
   * name; day: the UTC day, `YYYY-MM-DD`. A record without one is grouped under NO_GROUP.
   */
  readonly by: UsageGrouping;
}

export interface UsageRow {
  readonly group: string;
  readonly requests: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cached_tokens: number;
  readonly reasoning_tokens: number;
  readonly total_tokens: number;
  /** USD; null when no record of the group had a price. */
  readonly cost: number | null;
  /** Requests that ended with a status of 400 or more. */
  readonly errors: number;
}

/** The group of records without a key name, model or backend. */
export const NO_GROUP = '(none)';

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `30m`, `24h`, `7d`, `2w` (that long before `now`), a UTC date `2026-11-01` (its midnight) or a
 * full ISO 8601 time. Throws an Error that says what was expected.
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const value = text.trim();
  const relative = /^(\d+)\s*([mhdw])$/.exec(value);
  if (relative !== null) {
    const amount = Number(relative[1]);
    const unit = UNITS[relative[2] as string] as number;
    return new Date(now.getTime() - amount * unit);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const date = new Date(`${value}T00:00:00.000Z`);
    if (!Number.isNaN(date.getTime()) && date.toISOString().startsWith(value)) return date;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new Error(
    `--since: expected a duration such as 30m, 24h, 7d or 2w, or a date such as 2026-11-01, but got ${JSON.stringify(text)}`,
  );
}

const COLUMNS = ['requests', 'prompt', 'completion', 'cached', 'reasoning', 'total', 'cost', 'errors'] as const;

/** An aligned text table, one line per row, then a total line. */
export function formatUsageTable(rows: readonly UsageRow[], by: UsageGrouping): string {
  const total = sumRows(rows);
  const body = rows.map((r) => [r.group, ...cells(r)]);
  const header = [by, ...COLUMNS];
  const footer = ['total', ...cells(total)];
  const all = [header, ...body, footer];
  const widths = header.map((_, col) => Math.max(...all.map((line) => (line[col] as string).length)));
  const render = (line: readonly string[]): string =>
    line.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] as number) : cell.padStart(widths[col] as number))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [render(header), rule, ...body.map(render), rule, render(footer)].join('\n') + '\n';
}

/** The sum of rows, as one row named `total`. */
export function sumRows(rows: readonly UsageRow[]): UsageRow {
  let cost: number | null = null;
  const sum = (pick: (r: UsageRow) => number): number => rows.reduce((acc, r) => acc + pick(r), 0);
  for (const r of rows) if (r.cost !== null) cost = (cost ?? 0) + r.cost;
  return {
    group: 'total',
    requests: sum((r) => r.requests),
    prompt_tokens: sum((r) => r.prompt_tokens),
    completion_tokens: sum((r) => r.completion_tokens),
    cached_tokens: sum((r) => r.cached_tokens),
    reasoning_tokens: sum((r) => r.reasoning_tokens),
    total_tokens: sum((r) => r.total_tokens),
    cost,
    errors: sum((r) => r.errors),
  };
}

function cells(r: UsageRow): string[] {
  return [
    String(r.requests),
    String(r.prompt_tokens),
    String(r.completion_tokens),
    String(r.cached_tokens),
    String(r.reasoning_tokens),
    String(r.total_tokens),
    r.cost === null ? '-' : `$${r.cost.toFixed(4)}`,
    String(r.errors),
  ];
}
