import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openUsageStore } from '../../src/usage/store.js';
import { deadPort } from '../helpers/dead-port.js';
import { postgresSkip, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { captureLog, checkRoundTrip, usageRecord } from '../helpers/usage-store-cases.js';

describe('the PostgreSQL usage store', { skip: postgresSkip() }, () => {
  let server: TestPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  test('writes records on close and reads the sums back by key, model, backend and day', async () => {
    const { log } = await captureLog();
    await checkRoundTrip(() => openUsageStore(server.url, { log, flushIntervalMs: 60_000 }));
  });

  test('keeps every column of a record', async () => {
    const { log } = await captureLog();
    const store = await openUsageStore(server.url, { log });
    const record = usageRecord({ request_id: 'req_cols', ttft_ms: 42.25, cost: 0.5, stream: true, aborted: true, status: 499, prompt_tokens: 5, reasoning_tokens: 3 });
    store.add(record);
    await store.close();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      // bigint comes back as text and timestamptz as a Date: cast to compare with the record.
      const { rows } = await admin.query(
        `SELECT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time, request_id, key_name, endpoint, model_asked, model_sent,
           backend, status, prompt_tokens::int, completion_tokens::int, cached_tokens::int, reasoning_tokens::int, total_tokens::int,
           ttft_ms, duration_ms, cost, stream, aborted
         FROM usage WHERE request_id = 'req_cols'`,
      );
      assert.deepEqual(rows, [record]);
    } finally {
      await admin.end();
    }
  });

  test('writes a batch larger than one INSERT takes', async () => {
    const { log } = await captureLog();
    const store = await openUsageStore(server.url, { log, batchSize: 1_100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 1_100; i++) store.add(usageRecord({ request_id: `bulk-${i}`, key_name: 'bulk', prompt_tokens: 1, total_tokens: 1 }));
    await store.flush();
    const bulk = (await store.query({ since: new Date(0), by: 'key' })).find((r) => r.group === 'bulk');
    assert.equal(bulk?.requests, 1_100);
    assert.equal(bulk?.total_tokens, 1_100);
    await store.close();
  });

  test('a store whose schema is missing at start is retried, and written once it exists', async () => {
    const { log, lines } = await captureLog();
    // The table goes into the first schema of search_path; while that schema is missing, every write fails.
    const url = `${server.urlFor('postgres')}?options=${encodeURIComponent('-c search_path=later')}`;
    const store = await openUsageStore(url, { log, flushIntervalMs: 60_000, retryBaseMs: 60_000 });
    store.add(usageRecord({ request_id: 'late-1' }));
    await assert.rejects(store.flush(), /no schema has been selected/);
    assert.equal(store.pending, 1);
    assert.ok(lines.some((l) => l.level === 40 && String(l.err).includes('no schema has been selected')));

    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query('CREATE SCHEMA later');
      await store.flush();
      assert.equal(store.pending, 0);
      const { rows } = await admin.query<{ request_id: string }>('SELECT request_id FROM later.usage');
      assert.deepEqual(rows, [{ request_id: 'late-1' }]);
    } finally {
      await admin.end();
      await store.close();
    }
  });

  test('an unreachable server fails the write, warns, and never logs the password', async () => {
    const { log, lines, text } = await captureLog();
    const password = 'pa:ss/w@rd-9f3k';
    const url = `postgres://relay:${encodeURIComponent(password)}@127.0.0.1:${await deadPort()}/usage`;
    const store = await openUsageStore(url, { log, retryBaseMs: 1, retryMaxMs: 1, closeAttempts: 2 });
    store.add(usageRecord());
    await assert.rejects(store.flush());
    await store.close();
    const warning = lines.find((l) => l.msg === 'usage store write failed; the records are kept and retried');
    assert.ok(warning);
    assert.match(String(warning.store), /^postgres:\/\/relay:\*\*\*@127\.0\.0\.1:\d+\/usage$/);
    assert.ok(lines.some((l) => l.lost === 1), 'the lost record is reported');
    assert.ok(!text().includes(password) && !text().includes(encodeURIComponent(password)), 'no log line holds the password');
  });
});
