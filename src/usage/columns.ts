import type { UsageRecord } from './record.js';
import { NO_GROUP, type UsageGrouping, type UsageRow } from './report.js';

/**
 * The `usage` table's columns, shared by the SQLite and PostgreSQL stores, and the one function
 * that turns a record into column values. Values are sanitised here, so no single record can make
 * a batch fail forever (a NaN or a fraction where the column wants an integer).
 */
export const USAGE_COLUMNS = [
  'time',
  'request_id',
  'key_name',
  'endpoint',
  'model_asked',
  'model_sent',
  'backend',
  'status',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'total_tokens',
  'ttft_ms',
  'duration_ms',
  'cost',
  'stream',
  'aborted',
] as const;

export type UsageColumn = (typeof USAGE_COLUMNS)[number];
export type ColumnValue = string | number | boolean | null;

export function toColumnValues(r: UsageRecord): ColumnValue[] {
  const out: ColumnValue[] = [];
  writeColumnValues(out, 0, r, false);
  return out;
}

/**
 * Writes a record's column values into `out` from index `at` (a multi-row INSERT's parameters,
 * reused from batch to batch), booleans as 0/1 when `booleansAsIntegers` (SQLite has no boolean).
 * Returns the index after the last value. No array per row: this runs for every request.
 */
export function writeColumnValues(out: ColumnValue[], at: number, r: UsageRecord, booleansAsIntegers: boolean): number {
  out[at] = toIsoTime(r.time);
  out[at + 1] = String(r.request_id);
  return writeFigureValues(out, writeSharedValues(out, at + 2, r), r, booleansAsIntegers);
}

/**
 * The columns that a run of requests from one client to one model and backend has in common. The
 * SQLite store binds them once for such a run of rows rather than once a row: each bound string
 * costs about 700 instructions of UTF-8 conversion, allocation and binding (issue 5 bench).
 */
export const SHARED_COLUMNS = ['key_name', 'endpoint', 'model_asked', 'model_sent', 'backend'] as const satisfies readonly UsageColumn[];

/** The other columns, in USAGE_COLUMNS order: what writeOwnValues writes. */
export const OWN_COLUMNS: readonly UsageColumn[] = USAGE_COLUMNS.filter((c) => !(SHARED_COLUMNS as readonly string[]).includes(c));

/** Writes the SHARED_COLUMNS values of a record from `at`; returns the index after them. */
export function writeSharedValues(out: ColumnValue[], at: number, r: UsageRecord): number {
  out[at] = optionalText(r.key_name);
  out[at + 1] = String(r.endpoint);
  out[at + 2] = optionalText(r.model_asked);
  out[at + 3] = optionalText(r.model_sent);
  out[at + 4] = optionalText(r.backend);
  return at + 5;
}

/** Writes the OWN_COLUMNS values of a record from `at`; returns the index after them. */
export function writeOwnValues(out: ColumnValue[], at: number, r: UsageRecord, booleansAsIntegers: boolean): number {
  out[at] = toIsoTime(r.time);
  out[at + 1] = String(r.request_id);
  return writeFigureValues(out, at + 2, r, booleansAsIntegers);
}

/** Whether two records have the same SHARED_COLUMNS values. */
export function sharesColumns(a: UsageRecord, b: UsageRecord): boolean {
  return a.key_name === b.key_name && a.endpoint === b.endpoint && a.model_asked === b.model_asked && a.model_sent === b.model_sent && a.backend === b.backend;
}

/** The columns from `status` on, in USAGE_COLUMNS order. */
function writeFigureValues(out: ColumnValue[], at: number, r: UsageRecord, booleansAsIntegers: boolean): number {
  let i = at;
  out[i++] = integer(r.status);
  out[i++] = integer(r.prompt_tokens);
  out[i++] = integer(r.completion_tokens);
  out[i++] = integer(r.cached_tokens);
  out[i++] = integer(r.reasoning_tokens);
  out[i++] = integer(r.total_tokens);
  out[i++] = optionalNumber(r.ttft_ms);
  out[i++] = optionalNumber(r.duration_ms) ?? 0;
  out[i++] = optionalNumber(r.cost);
  const stream = r.stream === true;
  const aborted = r.aborted === true;
  out[i++] = booleansAsIntegers ? (stream ? 1 : 0) : stream;
  out[i++] = booleansAsIntegers ? (aborted ? 1 : 0) : aborted;
  return i;
}

/** One group's sums as both databases return them (a SUM over no tokens is NULL). */
export interface GroupSums {
  grp: string;
  requests: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  total_tokens: number | null;
  cost: number | null;
  errors: number | null;
}

export function toUsageRow(r: GroupSums): UsageRow {
  return {
    group: r.grp,
    requests: r.requests,
    prompt_tokens: r.prompt_tokens ?? 0,
    completion_tokens: r.completion_tokens ?? 0,
    cached_tokens: r.cached_tokens ?? 0,
    reasoning_tokens: r.reasoning_tokens ?? 0,
    total_tokens: r.total_tokens ?? 0,
    cost: r.cost,
    errors: r.errors ?? 0,
  };
}

/** The SQL expression of a grouping; `day` differs between the two databases. */
export function groupExpression(by: UsageGrouping, day: string): string {
  switch (by) {
    case 'key':
      return `COALESCE(key_name, '${NO_GROUP}')`;
    case 'model':
      return `COALESCE(model_sent, model_asked, '${NO_GROUP}')`;
    case 'backend':
      return `COALESCE(backend, '${NO_GROUP}')`;
    case 'day':
      return day;
  }
}

/** Days in order; other groups by the most tokens first. */
export function groupOrder(by: UsageGrouping): string {
  return by === 'day' ? 'grp ASC' : 'total_tokens DESC, grp ASC';
}

/** ISO times in one spelling, so SQLite's text comparison orders them. */
function toIsoTime(time: string): string {
  // The relay's own records are already in toISOString()'s spelling.
  if (isIsoSpelling(time)) return time;
  const parsed = new Date(time);
  return Number.isNaN(parsed.getTime()) ? new Date().toISOString() : parsed.toISOString();
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`, checked by character (a regular expression costs more, on every record). */
export function isIsoSpelling(time: string): boolean {
  if (time.length !== 24) return false;
  for (let i = 0; i < 24; i++) {
    const c = time.charCodeAt(i);
    const want = ISO_SHAPE.charCodeAt(i);
    if (want === 0x39 /* 9: a digit */ ? c < 0x30 || c > 0x39 : c !== want) return false;
  }
  return true;
}

const ISO_SHAPE = '9999-99-99T99:99:99.999Z';

function optionalText(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

function integer(value: number): number {
  return Number.isFinite(value) ? Math.round(value) : 0;
}

function optionalNumber(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
