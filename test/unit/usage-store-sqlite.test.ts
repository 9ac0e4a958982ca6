import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { UsageRecord } from '../../src/usage/record.js';
import { openUsageStore } from '../../src/usage/store.js';
import { captureLog, checkRoundTrip, usageRecord } from '../helpers/usage-store-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-usage-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writes records to SQLite on close and reads the sums back by key, model, backend and day', async () => {
  const { log } = await captureLog();
  const path = join(dir, 'round-trip.db');
  await checkRoundTrip(() => openUsageStore(path, { log, flushIntervalMs: 60_000 }));
});

test('creates the table in WAL mode and keeps every column of a record', async () => {
  const { log } = await captureLog();
  const path = join(dir, 'columns.db');
  const store = await openUsageStore(path, { log });
  const record = usageRecord({ request_id: 'req_cols', ttft_ms: 42.25, cost: 0.5, stream: true, aborted: true, status: 499, reasoning_tokens: 3 });
  store.add(record);
  await store.flush();
  assert.equal(store.pending, 0);
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const row = db.prepare('SELECT * FROM usage WHERE request_id = ?').get('req_cols');
    assert.deepEqual(row, { ...record, stream: 1, aborted: 1 });
  } finally {
    db.close();
    await store.close();
  }
});

test('rows that share client, endpoint, models and backend, and rows that do not, are stored column for column', async () => {
  const { log } = await captureLog();
  const path = join(dir, 'shared-runs.db');
  const store = await openUsageStore(path, { log, batchSize: 1_000, flushIntervalMs: 60_000 });
  // 50 rows with the same five shared values (the model names equal but separate strings, as read
  // from each request's body), 50 where one row differs (key_name null), then 23 of a 50-row run cut
  // short by the batch's end: the shared-run statement, the general one and the single-row one.
  const records: UsageRecord[] = [];
  for (let i = 0; i < 123; i++) {
    records.push(
      usageRecord({
        time: `2026-03-01T10:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(3, '0')}Z`,
        request_id: `run-${String(i).padStart(3, '0')}`,
        key_name: i === 75 ? null : 'alice',
        model_asked: ['gpt-4o'].join(''),
        model_sent: i >= 100 && i % 2 === 0 ? 'gpt-4o-mini' : `gpt-4o-${'2024-08-06'}`,
        prompt_tokens: i,
        completion_tokens: 2 * i,
        total_tokens: 3 * i,
        ttft_ms: i % 3 === 0 ? null : i / 4,
        cost: i % 5 === 0 ? null : i / 1_000,
        stream: i % 2 === 0,
        aborted: i % 7 === 0,
        status: i % 11 === 0 ? 429 : 200,
      }),
    );
  }
  for (const record of records) store.add(record);
  await store.flush();
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT * FROM usage ORDER BY request_id').all();
    assert.deepEqual(
      rows,
      records.map((r) => ({ ...r, stream: r.stream ? 1 : 0, aborted: r.aborted ? 1 : 0 })),
    );
  } finally {
    db.close();
    await store.close();
  }
});

test('writes a full batch at once, without waiting for the interval', async () => {
  const { log } = await captureLog();
  const path = join(dir, 'batch.db');
  const store = await openUsageStore(path, { log, batchSize: 3, flushIntervalMs: 60_000 });
  const db = new Database(path, { readonly: true, fileMustExist: false });
  try {
    for (let i = 0; i < 3; i++) store.add(usageRecord({ request_id: `b${i}` }));
    // The write is scheduled on a zero timer; wait for it on the event loop rather than sleeping.
    while (store.pending > 0) await new Promise((resolve) => setImmediate(resolve));
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM usage').get() as { n: number }).n, 3);
  } finally {
    db.close();
    await store.close();
  }
});

test('a store that cannot be written keeps its records, warns, and writes them once it can', async () => {
  const { log, lines } = await captureLog();
  // A regular file where the database's directory should be: opening fails, even as root.
  const parent = join(dir, 'not-yet-a-dir');
  writeFileSync(parent, 'in the way');
  const store = await openUsageStore(join(parent, 'usage.db'), { log, flushIntervalMs: 60_000, retryBaseMs: 60_000 });
  store.add(usageRecord({ request_id: 'kept-1' }));
  store.add(usageRecord({ request_id: 'kept-2' }));
  await assert.rejects(store.flush());
  assert.equal(store.pending, 2, 'the records are kept');
  const warning = lines.find((l) => l.msg === 'usage store write failed; the records are kept and retried');
  assert.ok(warning, 'a warning says the write failed');
  assert.equal(typeof warning.err, 'string');
  assert.equal(warning.pending, 2);

  rmSync(parent);
  mkdirSync(parent);
  await store.flush();
  assert.equal(store.pending, 0);
  const rows = await store.query({ since: new Date(0), by: 'key' });
  assert.equal(rows[0]?.requests, 2);
  await store.close();
});

test('close gives up after a bounded number of attempts and says how many records were lost', async () => {
  const { log, lines } = await captureLog();
  const parent = join(dir, 'blocked');
  writeFileSync(parent, 'in the way');
  const store = await openUsageStore(join(parent, 'usage.db'), { log, retryBaseMs: 1, closeAttempts: 3 });
  store.add(usageRecord());
  await store.close();
  const failures = lines.filter((l) => l.msg === 'usage store write failed; the records are kept and retried');
  assert.equal(failures.length, 3);
  const lost = lines.find((l) => l.lost === 1);
  assert.ok(lost, 'an error line counts the lost records');
  assert.equal(lost.level, 50);
  store.add(usageRecord());
  assert.ok(lines.some((l) => l.msg === 'usage record arrived after the store was closed; dropped'));
});

test('a record with nonsense numbers is still written (it cannot block the queue)', async () => {
  const { log } = await captureLog();
  const store = await openUsageStore(join(dir, 'sanitised.db'), { log });
  store.add(usageRecord({ prompt_tokens: Number.NaN, total_tokens: 2.7, duration_ms: Number.POSITIVE_INFINITY, cost: Number.NaN, time: 'not a time' }));
  await store.flush();
  const [row] = await store.query({ since: new Date(0), by: 'key' });
  assert.equal(row?.prompt_tokens, 0);
  assert.equal(row?.total_tokens, 3);
  assert.equal(row?.cost, null);
  await store.close();
});
