import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import {
  clientFor,
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
 * A streamed chat completion whose client asked for `stream_options.include_usage` itself
 * (issue 5): the request passes unchanged, the stream passes verbatim (the `"usage":null` members
 * and the usage chunk included: the client asked for them), and the usage is recorded.
 */

const KEY = 'rk-stream-client-usage-0001';

let mock: OpenAiLikeStream;
let upstream: MockUpstream;
let relay: RunningRelay;
let db: TempDatabase;

before(async () => {
  db = tempUsageDatabase();
  mock = openAiLikeChatStream();
  upstream = await startMockUpstream(mock.handler);
  relay = await startRelay({ backend: { base_url: upstream.url }, auth: { keys: [{ name: 'asker', key: KEY }] }, usage: { database: db.path } });
});
after(async () => {
  await relay.close();
  await upstream.close();
  db.remove();
});

test('the SDK asking for include_usage gets the usage chunk, and the usage is recorded', { timeout: 5_000 }, async () => {
  const stream = await clientFor(relay, KEY).chat.completions.create(
    { model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }] },
    { headers: { 'x-request-id': 'asked-sdk' } },
  );
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, []);
  assert.deepEqual(last?.usage, STREAM_USAGE);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'the other chunks keep their "usage":null');
  assert.equal(
    chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''),
    'Hello there!',
  );
});

test('the request and the stream bytes pass unchanged', { timeout: 5_000 }, async () => {
  const body = '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}';
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-request-id': 'asked-raw' },
    body,
  });
  assert.equal(res.status, 200);
  const received = await rawBody(res);
  assert.equal(upstream.requests.at(-1)?.body.toString(), body, 'the request body passes as sent');
  assert.ok(received.equals(mock.written.at(-1) as Buffer), 'the client receives exactly what the backend sent');

  await relay.close();
  const records = readUsageRecords(db.path);
  for (const id of ['asked-sdk', 'asked-raw']) {
    const r = recordOf(records, id);
    assert.equal(r.key_name, 'asker');
    assert.equal(r.stream, true);
    assert.equal(r.aborted, false);
    assert.equal(r.prompt_tokens, STREAM_USAGE.prompt_tokens, id);
    assert.equal(r.completion_tokens, STREAM_USAGE.completion_tokens, id);
    assert.equal(r.cached_tokens, STREAM_USAGE.prompt_tokens_details.cached_tokens, id);
    assert.equal(r.reasoning_tokens, STREAM_USAGE.completion_tokens_details.reasoning_tokens, id);
    assert.equal(r.total_tokens, STREAM_USAGE.total_tokens, id);
    assert.equal(r.cost, null, 'no price table: no cost');
  }
});
