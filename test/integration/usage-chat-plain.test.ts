import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chatCompletion, replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { assertCost, clientFor, readUsageRecords, recordOf, tempUsageDatabase, type TempDatabase } from '../helpers/usage-fixtures.js';

/**
 * The usage record of a plain (non-streamed) chat completion (issue 5), written to SQLite
 * (`usage.database`) and flushed when the relay closes: tokens read from the response's `usage`
 * (prompt, completion, cached, reasoning), cost from `usage.prices` at the model sent, the key's
 * name, the backend, the model asked and sent, status, times. The client gets the body untouched.
 */

const KEY = 'rk-usage-plain-0001';
const USAGE = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 200, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 100, audio_tokens: 0 },
};

let upstream: MockUpstream;
let relay: RunningRelay;
let db: TempDatabase;

before(async () => {
  db = tempUsageDatabase();
  upstream = await startMockUpstream((req, res) => {
    const body = JSON.parse(req.body.toString()) as { model: string };
    if (body.model === 'broken') {
      replyJson(400, { error: { message: 'bad', type: 'invalid_request_error', code: null, param: null } })(req, res, undefined as never);
      return;
    }
    replyJson(200, { ...chatCompletion(body.model, 'Hello!'), usage: USAGE })(req, res, undefined as never);
  });
  relay = await startRelay({
    backends: [{ name: 'openai-main', base_url: upstream.url, api_key: 'sk-backend' }],
    model: { mapping: { smart: 'gpt-4o' } },
    auth: { keys: [{ name: 'alice', key: KEY }] },
    usage: { database: db.path, prices: { 'gpt-4o': { input: 2.5, output: 10, cached_input: 1.25 }, 'gpt-4o-mini*': { input: 0.15, output: 0.6 } } },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
  db.remove();
});

test('a chat completion is recorded with its tokens, cost, key name, backend, models, status and times', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, KEY);
  const started = Date.now();
  const completion = await client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'plain-1' } });
  assert.deepEqual(completion.usage, USAGE, 'the client gets the usage untouched');
  await client.chat.completions.create({ model: 'gpt-4o-mini-2024-07-18', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'plain-2' } });
  await client.chat.completions.create({ model: 'unpriced', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'plain-3' } });
  await client.chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'plain-4' } }).catch(() => undefined);
  const ended = Date.now();

  // Records are written in batches, off the request path: closing the relay flushes them.
  await relay.close();
  const records = readUsageRecords(db.path);
  assert.equal(records.length, 4);

  const r = recordOf(records, 'plain-1');
  assert.equal(r.key_name, 'alice');
  assert.equal(r.endpoint, '/chat/completions');
  assert.equal(r.model_asked, 'smart');
  assert.equal(r.model_sent, 'gpt-4o');
  assert.equal(r.backend, 'openai-main');
  assert.equal(r.status, 200);
  assert.equal(r.prompt_tokens, 1200);
  assert.equal(r.completion_tokens, 300);
  assert.equal(r.cached_tokens, 200);
  assert.equal(r.reasoning_tokens, 100);
  assert.equal(r.total_tokens, 1500);
  // 1000 uncached in at $2.5/M + 200 cached at $1.25/M + 300 out at $10/M.
  assertCost(r.cost, (1000 * 2.5 + 200 * 1.25 + 300 * 10) / 1e6);
  assert.equal(r.stream, false);
  assert.equal(r.aborted, false);
  assert.ok(r.duration_ms > 0 && r.duration_ms < ended - started + 5, `duration ${r.duration_ms}`);
  assert.ok(r.ttft_ms !== null && r.ttft_ms >= 0 && r.ttft_ms <= r.duration_ms, `ttft ${r.ttft_ms}`);
  const time = Date.parse(r.time);
  assert.ok(time >= started - 5 && time <= ended + 5, `time ${r.time}`);

  const mini = recordOf(records, 'plain-2');
  assert.equal(mini.model_sent, 'gpt-4o-mini-2024-07-18');
  assertCost(mini.cost, (1200 * 0.15 + 300 * 0.6) / 1e6, 'glob price');
  assert.equal(recordOf(records, 'plain-3').cost, null, 'a model without a price costs null');
  assert.equal(recordOf(records, 'plain-3').total_tokens, 1500);

  const failed = recordOf(records, 'plain-4');
  assert.equal(failed.status, 400);
  assert.equal(failed.total_tokens, 0);
  assert.equal(failed.key_name, 'alice');
});
