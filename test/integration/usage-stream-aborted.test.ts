import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { sleep, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { withDeadline } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { clientFor, readUsageRecords, recordOf, tempUsageDatabase, type TempDatabase } from '../helpers/usage-fixtures.js';

/**
 * Aborted streams (issue 5) are recorded, marked `aborted`, with what was streamed: a client that
 * leaves mid-stream, and a backend that stops before `[DONE]`. When the backend reports usage as
 * it goes (vLLM's continuous usage stats), the record has the last figures seen before the end.
 */

const KEY = 'rk-aborted-0001';

let upstream: MockUpstream;
let relay: RunningRelay;
let db: TempDatabase;

before(async () => {
  db = tempUsageDatabase();
  // "running-usage" streams carry a usage object in every chunk; "break" ends without [DONE].
  upstream = await startMockUpstream(async (req, res) => {
    const content = (JSON.parse(req.body.toString()) as { messages: { content: string }[] }).messages[0]?.content ?? '';
    const running = content.includes('running-usage');
    const chunks = content.includes('break') ? 3 : 400;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 1; i <= chunks && !res.destroyed; i++) {
      const usage = running ? `,"usage":{"prompt_tokens":9,"completion_tokens":${i},"total_tokens":${9 + i}}` : '';
      res.write(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"t${i}"},"finish_reason":null}]${usage}}\n\n`);
      await sleep(20);
    }
    if (!res.destroyed) res.end();
  });
  relay = await startRelay({ backend: { base_url: upstream.url }, auth: { keys: [{ name: 'leaver', key: KEY }] }, usage: { database: db.path } });
});
after(async () => {
  await relay.close();
  await upstream.close();
  db.remove();
});

/** Streams through the SDK and aborts after `keep` chunks; resolves once the relay has closed the upstream response. */
async function abortAfter(content: string, keep: number, requestId: string): Promise<void> {
  const upstreamClosed = upstream.nextAbort();
  const stream = await clientFor(relay, KEY).chat.completions.create(
    { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content }] },
    { headers: { 'x-request-id': requestId } },
  );
  let seen = 0;
  for await (const chunk of stream) {
    void chunk;
    if (++seen === keep) stream.controller.abort();
  }
  await withDeadline(upstreamClosed, 2_000, 'the relay to close the upstream response');
  await accessLogFor(relay, requestId);
}

test('streams cut short (the client left, the backend stopped before [DONE]) are recorded as aborted, with the usage seen up to then', { timeout: 5_000 }, async () => {
  const started = performance.now();
  await abortAfter('plain', 2, 'abort-plain');
  await abortAfter('running-usage', 3, 'abort-running');
  const elapsed = performance.now() - started;

  const client = clientFor(relay, KEY);
  const broken = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'break' }] }, { headers: { 'x-request-id': 'abort-break' } });
  const pieces: string[] = [];
  for await (const chunk of broken) pieces.push(chunk.choices[0]?.delta.content ?? '');
  assert.deepEqual(pieces, ['t1', 't2', 't3']);
  await accessLogFor(relay, 'abort-break');

  await relay.close();
  const records = readUsageRecords(db.path);

  const plain = recordOf(records, 'abort-plain');
  assert.equal(plain.aborted, true);
  assert.equal(plain.stream, true);
  assert.equal(plain.status, 200, 'the status the client got');
  assert.equal(plain.key_name, 'leaver');
  assert.equal(plain.total_tokens, 0, 'no usage was streamed before the client left');
  assert.ok(plain.ttft_ms !== null && plain.ttft_ms <= plain.duration_ms);
  assert.ok(plain.duration_ms < elapsed, 'the record ends when the client left, not when the backend would have');

  const running = recordOf(records, 'abort-running');
  assert.equal(running.aborted, true);
  assert.equal(running.prompt_tokens, 9);
  assert.ok(running.completion_tokens >= 3 && running.completion_tokens < 400, `the last usage seen before the abort: ${running.completion_tokens}`);
  assert.equal(running.total_tokens, 9 + running.completion_tokens);

  const cut = recordOf(records, 'abort-break');
  assert.equal(cut.aborted, true, 'a stream without its [DONE] is marked aborted');
  assert.equal(cut.stream, true);
  assert.equal(cut.status, 200);
});
