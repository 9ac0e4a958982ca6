import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';
import type { UsageRecord } from '../../src/usage/record.js';
import { USAGE_GROUPINGS, type UsageGrouping, type UsageRow } from '../../src/usage/report.js';
import type { UsageStore } from '../../src/usage/store.js';

/** What the SQLite and PostgreSQL store tests share: a logger that keeps its lines, records, expected sums. */
export interface CapturedLog {
  readonly log: Logger;
  readonly lines: Record<string, unknown>[];
  /** Every line as JSON text, to check nothing secret was logged. */
  text(): string;
}

export async function captureLog(): Promise<CapturedLog> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
      callback();
    },
  });
  const { log } = await createLogger({ level: 'debug', format: 'json' }, sink);
  return { log, lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}

export function usageRecord(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    time: '2026-03-01T10:00:00.000Z',
    request_id: 'req_1',
    key_name: 'alice',
    endpoint: '/chat/completions',
    model_asked: 'gpt-4o',
    model_sent: 'gpt-4o-2024-08-06',
    backend: 'openai',
    status: 200,
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
    ttft_ms: null,
    duration_ms: 12.5,
    cost: null,
    stream: false,
    aborted: false,
    ...overrides,
  };
}

export const SINCE = new Date('2026-03-01T00:00:00.000Z');

export const SAMPLE: readonly UsageRecord[] = [
  usageRecord({ request_id: 'r1', prompt_tokens: 100, completion_tokens: 50, cached_tokens: 20, total_tokens: 150, cost: 0.001, ttft_ms: 80.5, stream: true }),
  usageRecord({ request_id: 'r2', time: '2026-03-01T23:59:59.999Z', model_asked: 'fast', model_sent: 'gpt-4o-mini', prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: 0.0001 }),
  usageRecord({ request_id: 'r3', time: '2026-03-02T00:00:00.000Z', key_name: 'bob', backend: 'azure', status: 429 }),
  usageRecord({ request_id: 'r4', time: '2026-03-02T08:00:00.000Z', key_name: null, endpoint: '/models', model_asked: null, model_sent: null, backend: null }),
  usageRecord({
    request_id: 'r5',
    // Another offset: the stores keep instants, and days are UTC days.
    time: '2026-03-02T09:00:00+02:00',
    key_name: 'bob',
    model_asked: 'llama',
    model_sent: 'llama',
    backend: 'local',
    prompt_tokens: 1000,
    completion_tokens: 2000,
    reasoning_tokens: 500,
    total_tokens: 3000,
    stream: true,
    aborted: true,
    status: 200,
  }),
  // Before SINCE: left out.
  usageRecord({ request_id: 'r0', time: '2026-02-28T23:59:59.999Z', prompt_tokens: 7, total_tokens: 7, cost: 5 }),
];

function row(group: string, requests: number, tokens: [number, number, number, number, number], cost: number | null, errors: number): UsageRow {
  const [prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, total_tokens] = tokens;
  return { group, requests, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, total_tokens, cost, errors };
}

export const EXPECTED: Readonly<Record<UsageGrouping, UsageRow[]>> = {
  key: [row('bob', 2, [1000, 2000, 0, 500, 3000], null, 1), row('alice', 2, [110, 55, 20, 0, 165], 0.0011, 0), row('(none)', 1, [0, 0, 0, 0, 0], null, 0)],
  model: [
    row('llama', 1, [1000, 2000, 0, 500, 3000], null, 0),
    row('gpt-4o-2024-08-06', 2, [100, 50, 20, 0, 150], 0.001, 1),
    row('gpt-4o-mini', 1, [10, 5, 0, 0, 15], 0.0001, 0),
    row('(none)', 1, [0, 0, 0, 0, 0], null, 0),
  ],
  backend: [
    row('local', 1, [1000, 2000, 0, 500, 3000], null, 0),
    row('openai', 2, [110, 55, 20, 0, 165], 0.0011, 0),
    row('(none)', 1, [0, 0, 0, 0, 0], null, 0),
    row('azure', 1, [0, 0, 0, 0, 0], null, 1),
  ],
  day: [row('2026-03-01', 2, [110, 55, 20, 0, 165], 0.0011, 0), row('2026-03-02', 3, [1000, 2000, 0, 500, 3000], null, 1)],
};

/** Rows with costs rounded, so float sums compare. */
export function rounded(rows: readonly UsageRow[]): UsageRow[] {
  return rows.map((r) => ({ ...r, cost: r.cost === null ? null : Math.round(r.cost * 1e9) / 1e9 }));
}

/** Writes SAMPLE through one store, closes it (which must flush), and reads the sums back through another. */
export async function checkRoundTrip(open: () => Promise<UsageStore>): Promise<void> {
  const writer = await open();
  for (const r of SAMPLE) writer.add(r);
  assert.equal(writer.pending, SAMPLE.length);
  await writer.close();
  assert.equal(writer.pending, 0);

  const reader = await open();
  try {
    for (const by of USAGE_GROUPINGS) {
      assert.deepEqual(rounded(await reader.query({ since: SINCE, by })), EXPECTED[by], `grouped by ${by}`);
    }
    const all = await reader.query({ since: new Date(0), by: 'key' });
    assert.equal(all.find((r) => r.group === 'alice')?.requests, 3, 'an earlier since takes the older record too');
    assert.deepEqual(await reader.query({ since: new Date('2027-01-01T00:00:00Z'), by: 'day' }), []);
  } finally {
    await reader.close();
  }
}
