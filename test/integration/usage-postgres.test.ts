import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { accessLogFor } from '../helpers/access-log.js';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { postgresSkip, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { assertCost, clientFor, openAiLikeChatStream, recordOf, STREAM_USAGE } from '../helpers/usage-fixtures.js';
import type { UsageRecord } from '../../src/usage/record.js';

/**
 * `usage.database: postgres://…` (issue 5): the relay writes the same records to PostgreSQL as to
 * SQLite (a plain and a streamed chat completion here), flushed when it closes, and the admin API
 * reads its sums from there.
 */

const KEY = 'rk-postgres-0001';
const ADMIN = 'admin-postgres-key';
const PLAIN_USAGE = { prompt_tokens: 100, completion_tokens: 40, total_tokens: 140, prompt_tokens_details: { cached_tokens: 60 }, completion_tokens_details: { reasoning_tokens: 8 } };

describe('usage records in PostgreSQL', { skip: postgresSkip() }, () => {
  let server: TestPostgres;
  let upstream: MockUpstream;
  let relay: RunningRelay;
  let url: string;

  before(async () => {
    server = await startPostgres();
    await server.createDatabase('relay_usage');
    url = server.urlFor('relay_usage');
    const stream = openAiLikeChatStream();
    upstream = await startMockUpstream((req, res, raw) => {
      const body = JSON.parse(req.body.toString()) as { model: string; stream?: boolean };
      if (body.stream === true) return stream.handler(req, res, raw);
      const text = JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: PLAIN_USAGE });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    });
    relay = await startRelay({
      backends: [{ name: 'pg-backend', base_url: upstream.url }],
      auth: { keys: [{ name: 'pguser', key: KEY }] },
      usage: { database: url, prices: { 'gpt-4o': { input: 2.5, output: 10, cached_input: 1.25 } } },
      admin: { key: ADMIN },
    });
  });
  after(async () => {
    await relay?.close();
    await upstream?.close();
    await server?.stop();
  });

  async function readRecords(): Promise<UsageRecord[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<UsageRecord>(
        `SELECT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time, request_id, key_name, endpoint, model_asked, model_sent,
           backend, status, prompt_tokens::int, completion_tokens::int, cached_tokens::int, reasoning_tokens::int, total_tokens::int,
           ttft_ms, duration_ms, cost, stream, aborted
         FROM usage ORDER BY time`,
      );
      return rows;
    } finally {
      await client.end();
    }
  }

  test('a plain and a streamed chat completion are recorded in PostgreSQL as in SQLite', { timeout: 15_000 }, async () => {
    const client = clientFor(relay, KEY);
    const started = Date.now();
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'pg-plain' } });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'pg-stream' } });
    for await (const chunk of stream) assert.equal(chunk.usage, undefined, 'the injected usage is hidden');
    await accessLogFor(relay, 'pg-stream');

    // The admin API flushes what is queued and answers from PostgreSQL.
    const res = await fetch(`${relay.url}/admin/usage?by=key&since=1h`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 200);
    const report = (await res.json()) as { data: { group: string; requests: number; total_tokens: number }[] };
    assert.deepEqual(report.data.map((r) => [r.group, r.requests, r.total_tokens]), [['pguser', 2, 140 + STREAM_USAGE.total_tokens]]);

    await relay.close();
    const records = await readRecords();
    assert.equal(records.length, 2);
    const plain = recordOf(records, 'pg-plain');
    assert.deepEqual(
      { ...plain, time: undefined, ttft_ms: undefined, duration_ms: undefined, cost: undefined },
      {
        time: undefined,
        request_id: 'pg-plain',
        key_name: 'pguser',
        endpoint: '/chat/completions',
        model_asked: 'gpt-4o',
        model_sent: 'gpt-4o',
        backend: 'pg-backend',
        status: 200,
        prompt_tokens: 100,
        completion_tokens: 40,
        cached_tokens: 60,
        reasoning_tokens: 8,
        total_tokens: 140,
        ttft_ms: undefined,
        duration_ms: undefined,
        cost: undefined,
        stream: false,
        aborted: false,
      },
    );
    assertCost(plain.cost, (40 * 2.5 + 60 * 1.25 + 40 * 10) / 1e6);
    assert.ok(plain.duration_ms > 0);
    assert.ok(Math.abs(Date.parse(plain.time) - started) < 5_000);

    const streamed = recordOf(records, 'pg-stream');
    assert.equal(streamed.stream, true);
    assert.equal(streamed.aborted, false);
    assert.equal(streamed.total_tokens, STREAM_USAGE.total_tokens);
    assert.equal(streamed.cached_tokens, STREAM_USAGE.prompt_tokens_details.cached_tokens);
    assert.equal(streamed.reasoning_tokens, STREAM_USAGE.completion_tokens_details.reasoning_tokens);
    assert.ok(streamed.ttft_ms !== null && streamed.ttft_ms <= streamed.duration_ms);
  });
});
