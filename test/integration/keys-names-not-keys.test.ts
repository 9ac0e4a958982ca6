import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { plainKeyName } from '../../src/auth/client-keys-schema.js';
import { replyChat, replySse, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor, readUsageRecords, recordOf, tempUsageDatabase, type TempDatabase } from '../helpers/usage-fixtures.js';

/**
 * Logs and usage records carry a client key's name, never the key (issue 5): every log line of a
 * relay at debug level, through successes, a stream, refusals (401, 403, 429) and the usage store
 * itself, is searched for the keys' text.
 */

const ALICE = 'rk-alice-SECRETKEY-7f3a9c';
const BOB = 'rk-bob-SECRETKEY-51d0e2';
const PLAIN = 'rk-plain-SECRETKEY-90ab44';
const KEYS = [ALICE, BOB, PLAIN, 'SECRETKEY'];

let upstream: MockUpstream;
let relay: RunningRelay;
let db: TempDatabase;

before(async () => {
  upstream = await startMockUpstream(replyChat('hi'));
  db = tempUsageDatabase();
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: 'sk-backend' },
    auth: { keys: [{ name: 'alice', key: ALICE, rpm: 2, models: ['gpt-4o*'] }, { name: 'bob', key: BOB }, PLAIN] },
    usage: { database: db.path },
    log: { level: 'trace' },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
  db.remove();
});

const ask = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] });

test('access-log lines and usage records name the key, and no log line or stored byte contains a key', { timeout: 5_000 }, async () => {
  const alice = clientFor(relay, ALICE);
  await alice.chat.completions.create(ask('gpt-4o'), { headers: { 'x-request-id': 'names-ok' } });
  assert.equal((await apiErrorOf(alice.chat.completions.create(ask('o3'), { headers: { 'x-request-id': 'names-403' } }))).status, 403);
  upstream.handle(replySse(['a', 'b']));
  const stream = await clientFor(relay, BOB).chat.completions.create({ ...ask('gpt-4o'), stream: true }, { headers: { 'x-request-id': 'names-stream' } });
  for await (const chunk of stream) void chunk;
  upstream.handle(replyChat('hi'));
  await alice.chat.completions.create(ask('gpt-4o'), { headers: { 'x-request-id': 'names-ok-2' } });
  assert.equal((await apiErrorOf(alice.chat.completions.create(ask('gpt-4o'), { headers: { 'x-request-id': 'names-429' } }))).status, 429);
  await clientFor(relay, PLAIN).chat.completions.create(ask('gpt-4o'), { headers: { 'x-request-id': 'names-plain' } });
  assert.equal((await apiErrorOf(clientFor(relay, `${ALICE}-wrong`).chat.completions.create(ask('gpt-4o'), { headers: { 'x-request-id': 'names-401' } }))).status, 401);

  await relay.close();

  const named: Record<string, string | undefined> = {
    'names-ok': 'alice',
    'names-403': 'alice',
    'names-stream': 'bob',
    'names-429': 'alice',
    'names-plain': plainKeyName(PLAIN),
    'names-401': undefined,
  };
  for (const [id, name] of Object.entries(named)) {
    const line = relay.logs.find((l) => l.msg === 'request' && l.request_id === id);
    assert.ok(line, `an access-log line for ${id}`);
    assert.equal(line.access_key, name, id);
  }
  const records = readUsageRecords(db.path);
  for (const [id, name] of Object.entries(named)) {
    if (id === 'names-401') continue;
    assert.equal(recordOf(records, id).key_name, name, id);
  }

  const logText = relay.logs.map((l) => JSON.stringify(l)).join('\n');
  for (const key of KEYS) assert.ok(!logText.includes(key), `a log line contains ${key.slice(0, 12)}…`);
  for (const file of readdirSync(db.dir)) {
    const bytes = readFileSync(join(db.dir, file)).toString('latin1');
    for (const key of KEYS) assert.ok(!bytes.includes(key), `${file} contains ${key.slice(0, 12)}…`);
  }
});
