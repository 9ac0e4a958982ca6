import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { assertCost, clientFor, rawBody, readUsageRecords, recordOf, tempUsageDatabase, type TempDatabase } from '../helpers/usage-fixtures.js';

/**
 * A Responses API stream (issue 5): the usage comes from the `response.completed` event's
 * `response.usage` (input/output tokens and their details), read as the event passes. The request
 * gets no stream_options, and the stream reaches the client verbatim.
 */

const KEY = 'rk-responses-0001';
const USAGE = { input_tokens: 30, input_tokens_details: { cached_tokens: 10 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 5 }, total_tokens: 50 };

let upstream: MockUpstream;
let relay: RunningRelay;
let db: TempDatabase;
const written: string[] = [];

function responseObject(status: string, usage: unknown, text: string): Record<string, unknown> {
  const output = text === '' ? [] : [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }];
  return { id: 'resp_1', object: 'response', created_at: 1700000000, status, model: 'gpt-4o-2024-08-06', output, usage };
}

function writeResponsesStream(res: ServerResponse): void {
  const events: [string, Record<string, unknown>][] = [
    ['response.created', { type: 'response.created', sequence_number: 0, response: responseObject('in_progress', null, '') }],
    ['response.output_text.delta', { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hel' }],
    ['response.output_text.delta', { type: 'response.output_text.delta', sequence_number: 2, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'lo' }],
    ['response.completed', { type: 'response.completed', sequence_number: 3, response: responseObject('completed', USAGE, 'Hello') }],
  ];
  const text = events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('');
  written.push(text);
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  // One write per event, as backends send them.
  for (const part of text.split('\n\n')) if (part !== '') res.write(`${part}\n\n`);
  res.end();
}

before(async () => {
  db = tempUsageDatabase();
  upstream = await startMockUpstream((_req, res) => writeResponsesStream(res));
  relay = await startRelay({
    backends: [{ name: 'oai', base_url: upstream.url }],
    auth: { keys: [{ name: 'resp', key: KEY }] },
    usage: { database: db.path, prices: { 'gpt-4o': { input: 2.5, output: 10, cached_input: 1.25 } } },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
  db.remove();
});

test('the SDK streams a response, and the record takes the usage of response.completed', { timeout: 5_000 }, async () => {
  const stream = await clientFor(relay, KEY).responses.create({ model: 'gpt-4o', input: 'Say hello', stream: true }, { headers: { 'x-request-id': 'resp-sdk' } });
  let text = '';
  let completedUsage: unknown;
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') completedUsage = event.response.usage;
  }
  assert.equal(text, 'Hello');
  assert.deepEqual(completedUsage, USAGE);
  const sent = JSON.parse(upstream.requests.at(-1)?.body.toString() ?? '{}') as Record<string, unknown>;
  assert.equal(sent.stream_options, undefined, 'the Responses API gets no stream_options');

  const body = '{"model":"gpt-4o","input":"Say hello","stream":true}';
  const res = await fetch(`${relay.baseURL}/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-request-id': 'resp-raw' },
    body,
  });
  assert.equal((await rawBody(res)).toString(), written.at(-1), 'the stream reaches the client verbatim');
  assert.equal(upstream.requests.at(-1)?.body.toString(), body);

  await relay.close();
  const records = readUsageRecords(db.path);
  for (const id of ['resp-sdk', 'resp-raw']) {
    const r = recordOf(records, id);
    assert.equal(r.endpoint, '/responses');
    assert.equal(r.key_name, 'resp');
    assert.equal(r.model_asked, 'gpt-4o');
    assert.equal(r.stream, true);
    assert.equal(r.aborted, false, 'response.completed is the natural end');
    assert.equal(r.prompt_tokens, 30);
    assert.equal(r.completion_tokens, 20);
    assert.equal(r.cached_tokens, 10);
    assert.equal(r.reasoning_tokens, 5);
    assert.equal(r.total_tokens, 50);
    assertCost(r.cost, (20 * 2.5 + 10 * 1.25 + 20 * 10) / 1e6);
    assert.ok(r.ttft_ms !== null && r.ttft_ms <= r.duration_ms);
  }
});
