import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { chatChunk, replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel } from '../helpers/raw-http.js';
import { createSignal, withDeadline, type Signal } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor, tempUsageDatabase } from '../helpers/usage-fixtures.js';

/**
 * A key's `max_concurrency` (issue 5) counts requests in flight, streams included: while N streams
 * are open the N+1th request gets 429 `rate_limit_exceeded` (SDK RateLimitError, retry-after) and
 * never reaches the backend; once one stream has ended, the next request is admitted.
 */

const KEY = 'rk-concurrency-0001';
const OPEN = 'rk-concurrency-open-0002';
const MAX = 2;

let upstream: MockUpstream;
let relay: RunningRelay;
/** Per request id: released by the test to end that stream. */
const releases = new Map<string, Signal>();

before(async () => {
  upstream = await startMockUpstream(async (req, res) => {
    const id = String(req.headers['x-request-id'] ?? '');
    if (!id.startsWith('held-')) return replyChat('quick')(req, res, undefined as never);
    const release = createSignal();
    releases.set(id, release);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify(chatChunk('gpt-4o', id))}\n\n`);
    await release.promise;
    if (!res.destroyed) res.end(`data: ${JSON.stringify(chatChunk('gpt-4o', 'end'))}\n\ndata: [DONE]\n\n`);
  });
  relay = await startRelay({ backend: { base_url: upstream.url }, auth: { keys: [{ name: 'conc', key: KEY, max_concurrency: MAX }, OPEN] } });
});
after(async () => {
  for (const r of releases.values()) r.resolve();
  await relay.close();
  await upstream.close();
});

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };

/** Opens a stream held open by the mock until released; resolves once its first chunk arrived. */
async function openStream(client: OpenAI, id: string) {
  const stream = await client.chat.completions.create({ ...CHAT, stream: true }, { headers: { 'x-request-id': id } });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.done, false);
  assert.equal(first.value?.choices[0]?.delta.content, id);
  /** Lets the backend end the stream, reads it to the end, and waits until the relay has logged it. */
  const finish = async (): Promise<string[]> => {
    releases.get(id)?.resolve();
    const rest: string[] = [];
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) rest.push(next.value.choices[0]?.delta.content ?? '');
    await accessLogFor(relay, id);
    return rest;
  };
  return { finish };
}

test('while max_concurrency streams are open the next request gets 429 and never reaches the backend; after one ends the next is admitted', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, KEY);
  const a = await openStream(client, 'held-a');
  const b = await openStream(client, 'held-b');
  const before = upstream.requests.length;

  for (const stream of [false, true]) {
    const err = await apiErrorOf(client.chat.completions.create({ ...CHAT, stream }));
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'rate_limit_exceeded');
    assert.match(err.message, /Too many concurrent requests .*Limit 2, In flight 2/);
    assert.ok(Number(err.headers.get('retry-after')) >= 1, 'retry-after is set');
  }
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before, headers: { authorization: `Bearer ${OPEN}` } }), []);

  assert.deepEqual(await a.finish(), ['end']);
  const c = await withDeadline(openStream(client, 'held-c'), 2_000, 'a new stream to be admitted once one ended');
  const err = await apiErrorOf(client.chat.completions.create(CHAT));
  assert.ok(err instanceof OpenAI.RateLimitError, 'full again with b and c open');

  assert.deepEqual(await b.finish(), ['end']);
  assert.deepEqual(await c.finish(), ['end']);
  const done = await client.chat.completions.create(CHAT);
  assert.equal(done.choices[0]?.message.content, 'quick', 'all slots are free again');
});

test('a client that leaves a stream frees its slot', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, KEY);
  const controller = new AbortController();
  const x = await client.chat.completions.create({ ...CHAT, stream: true }, { headers: { 'x-request-id': 'held-x' }, signal: controller.signal });
  await x[Symbol.asyncIterator]().next();
  const y = await openStream(client, 'held-y');
  assert.ok((await apiErrorOf(client.chat.completions.create(CHAT))) instanceof OpenAI.RateLimitError);

  const upstreamClosed = upstream.nextAbort();
  controller.abort();
  await withDeadline(upstreamClosed, 2_000, 'the relay to close the abandoned stream');
  await accessLogFor(relay, 'held-x');
  const ok = await client.chat.completions.create(CHAT);
  assert.equal(ok.choices[0]?.message.content, 'quick');
  await y.finish();
});

test('with usage accounting on, the slot is released when the response ends, finished or abandoned', { timeout: 5_000 }, async () => {
  const db = tempUsageDatabase();
  const accounting = await startRelay({ backend: { base_url: upstream.url }, auth: { keys: [{ name: 'one', key: KEY, max_concurrency: 1 }] }, usage: { database: db.path } });
  try {
    const client = clientFor(accounting, KEY);
    const controller = new AbortController();
    const held = await client.chat.completions.create({ ...CHAT, stream: true }, { headers: { 'x-request-id': 'held-acc-1' }, signal: controller.signal });
    await held[Symbol.asyncIterator]().next();
    assert.ok((await apiErrorOf(client.chat.completions.create(CHAT))) instanceof OpenAI.RateLimitError, 'the one slot is taken');
    controller.abort();
    await accessLogFor(accounting, 'held-acc-1');
    assert.equal((await client.chat.completions.create(CHAT, { headers: { 'x-request-id': 'acc-2' } })).choices[0]?.message.content, 'quick');
    await accessLogFor(accounting, 'acc-2');
    assert.equal((await client.chat.completions.create(CHAT)).choices[0]?.message.content, 'quick', 'a finished request frees its slot too');
  } finally {
    await accounting.close();
    db.remove();
  }
});
