import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { chatCompletion, replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { toOpenAIError } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { clientFor, tempUsageDatabase, type TempDatabase } from '../helpers/usage-fixtures.js';

/**
 * `GET /admin/usage` (issue 5): the usage report as JSON, behind `admin.key` (Bearer). It counts
 * what is still queued (no wait for the batch timer). A wrong or missing admin key gets 401, a
 * client key is not an admin key, and without `admin.key` the admin API does not exist (404).
 */

const KEY = 'rk-admin-client-0001';
const ADMIN = 'admin-SECRET-key-0002';

let upstream: MockUpstream;
let relay: RunningRelay;
let noAdmin: RunningRelay;
let db: TempDatabase;

before(async () => {
  db = tempUsageDatabase();
  upstream = await startMockUpstream((req, res) => {
    const body = JSON.parse(req.body.toString()) as { model: string };
    const tokens = body.model === 'gpt-4o' ? { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 } : { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    replyJson(200, { ...chatCompletion(body.model, 'ok'), usage: tokens })(req, res, undefined as never);
  });
  const common = { backends: [{ name: 'main', base_url: upstream.url }], auth: { keys: [{ name: 'app', key: KEY }] }, usage: { database: db.path, prices: { 'gpt-4o': { input: 2, output: 8 } } } };
  relay = await startRelay({ ...common, admin: { key: ADMIN } });
  noAdmin = await startRelay({ ...common, usage: { database: `${db.path}-2` } });
});
after(async () => {
  await relay.close();
  await noAdmin.close();
  await upstream.close();
  db.remove();
});

interface Report {
  object: string;
  since: string;
  by: string;
  data: { group: string; requests: number; prompt_tokens: number; completion_tokens: number; total_tokens: number; cost: number | null; errors: number }[];
  total: { group: string; requests: number; total_tokens: number };
}

test('GET /admin/usage?by=model&since=1d with the admin key answers JSON rows, queued records included', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, KEY);
  for (const [i, model] of ['gpt-4o', 'gpt-4o', 'gpt-4o-mini'].entries()) {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': `admin-${i}` } });
    // The record is made when the response closes on the relay's side, right after its log line.
    await accessLogFor(relay, `admin-${i}`);
  }
  const before = Date.now();
  const res = await fetch(`${relay.url}/admin/usage?by=model&since=1d`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const report = (await res.json()) as Report;
  assert.equal(report.object, 'usage.report');
  assert.equal(report.by, 'model');
  assert.ok(Math.abs(Date.parse(report.since) - (before - 86_400_000)) < 5_000, `since ${report.since}`);
  assert.deepEqual(
    report.data.map((r) => [r.group, r.requests, r.prompt_tokens, r.completion_tokens, r.total_tokens, r.errors]),
    [
      ['gpt-4o', 2, 200, 100, 300, 0],
      ['gpt-4o-mini', 1, 10, 5, 15, 0],
    ],
  );
  assert.ok(Math.abs((report.data[0]?.cost ?? 0) - (200 * 2 + 100 * 8) / 1e6) < 1e-12);
  assert.equal(report.data[1]?.cost, null);
  assert.equal(report.total.requests, 3);
  assert.equal(report.total.total_tokens, 315);

  const byKey = (await (await fetch(`${relay.url}/admin/usage?by=key`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Report;
  assert.equal(byKey.by, 'key');
  assert.deepEqual(byKey.data.map((r) => [r.group, r.requests]), [['app', 3]]);
});

test('a wrong or missing admin key, or a client key, gets 401 in OpenAI shape', { timeout: 5_000 }, async () => {
  for (const headers of [{ authorization: 'Bearer admin-wrong' }, {}, { authorization: `Bearer ${KEY}` }, { 'x-api-key': ADMIN }] as Record<string, string>[]) {
    const res = await fetch(`${relay.url}/admin/usage?by=model&since=1d`, { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    const error = toOpenAIError(await res.text());
    assert.equal(error.type, 'authentication_error');
    assert.ok(!error.message.includes(ADMIN));
  }
  const bad = await fetch(`${relay.url}/admin/usage?by=colour`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(bad.status, 400);
  assert.match(toOpenAIError(await bad.text()).message, /by: expected one of key, model, backend, day/);
});

test('without admin.key the admin API does not exist: 404, even with a key', { timeout: 5_000 }, async () => {
  for (const headers of [{ authorization: `Bearer ${ADMIN}` }, { authorization: `Bearer ${KEY}` }, {}] as Record<string, string>[]) {
    const res = await fetch(`${noAdmin.url}/admin/usage?by=model&since=1d`, { headers });
    assert.equal(res.status, 404, JSON.stringify(headers));
    assert.equal(toOpenAIError(await res.text()).code, 'not_found');
  }
  assert.equal(upstream.requests.filter((r) => r.url.includes('admin')).length, 0, 'never relayed');
});
