import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import {
  openAiLikeChatStream,
  rawBody,
  readUsageRecords,
  recordOf,
  STREAM_USAGE,
  tempUsageDatabase,
  type OpenAiLikeStream,
  type TempDatabase,
} from '../helpers/usage-fixtures.js';

/**
 * The per-backend switch `stream_usage: false` (issue 5), for backends that reject
 * `stream_options`: such a backend never receives it (the request passes as sent), while the other
 * backends of the same relay still do. The stream is recorded without tokens.
 */

const KEY = 'rk-stream-off-0001';

let mockStrict: OpenAiLikeStream;
let mockOpenAi: OpenAiLikeStream;
let strict: MockUpstream;
let openai: MockUpstream;
let relay: RunningRelay;
let db: TempDatabase;

before(async () => {
  db = tempUsageDatabase();
  mockStrict = openAiLikeChatStream();
  mockOpenAi = openAiLikeChatStream();
  strict = await startMockUpstream(mockStrict.handler);
  openai = await startMockUpstream(mockOpenAi.handler);
  relay = await startRelay({
    backends: [
      { name: 'strict', base_url: strict.url, models: ['local-*'], stream_usage: false },
      { name: 'openai', base_url: openai.url, models: ['*'], priority: 1 },
    ],
    auth: { keys: [{ name: 'k', key: KEY }] },
    usage: { database: db.path },
  });
});
after(async () => {
  await relay.close();
  await strict.close();
  await openai.close();
  db.remove();
});

async function post(body: string, requestId: string): Promise<Buffer> {
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-request-id': requestId },
    body,
  });
  assert.equal(res.status, 200);
  return rawBody(res);
}

test('a backend with stream_usage: false gets no stream_options; another backend of the same relay does', { timeout: 5_000 }, async () => {
  const toStrict = '{"model":"local-llama","stream":true,"messages":[{"role":"user","content":"hi"}]}';
  const received = await post(toStrict, 'off-strict');
  assert.equal(strict.requests.at(-1)?.body.toString(), toStrict, 'the body passes as sent');
  assert.ok(received.equals(mockStrict.written.at(-1) as Buffer), 'the stream passes verbatim');
  assert.ok(!received.toString().includes('usage'));

  const toOpenAi = '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}';
  await post(toOpenAi, 'off-openai');
  assert.deepEqual(JSON.parse(openai.requests.at(-1)?.body.toString() ?? '{}').stream_options, { include_usage: true });

  await relay.close();
  const records = readUsageRecords(db.path);
  const off = recordOf(records, 'off-strict');
  assert.equal(off.backend, 'strict');
  assert.equal(off.stream, true);
  assert.equal(off.aborted, false);
  assert.equal(off.total_tokens, 0, 'no usage was asked for, none was read');
  assert.ok(off.ttft_ms !== null, 'the first token is still timed');
  const on = recordOf(records, 'off-openai');
  assert.equal(on.backend, 'openai');
  assert.equal(on.total_tokens, STREAM_USAGE.total_tokens);
});

test('usage.stream_usage: false turns it off for every backend that does not say otherwise', { timeout: 5_000 }, async () => {
  const local = tempUsageDatabase();
  const off = await startRelay({
    backends: [
      { name: 'inherits', base_url: strict.url, models: ['local-*'] },
      { name: 'opts-in', base_url: openai.url, models: ['*'], priority: 1, stream_usage: true },
    ],
    usage: { database: local.path, stream_usage: false },
  });
  try {
    for (const [model, mock, expected] of [['local-llama', strict, undefined], ['gpt-4o', openai, { include_usage: true }]] as const) {
      const res = await fetch(`${off.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(res.status, 200);
      await rawBody(res);
      assert.deepEqual(JSON.parse(mock.requests.at(-1)?.body.toString() ?? '{}').stream_options, expected, model);
    }
  } finally {
    await off.close();
    local.remove();
  }
});
