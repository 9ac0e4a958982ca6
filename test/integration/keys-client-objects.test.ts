import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { plainKeyName } from '../../src/auth/client-keys-schema.js';
import { accessLogFor } from '../helpers/access-log.js';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { clientFor } from '../helpers/usage-fixtures.js';

/**
 * auth.keys entries as objects (issue 5): `{name, key}` keys are accepted as Authorization: Bearer,
 * x-api-key or api-key, and the plain strings of before keep working beside them. The key never
 * travels upstream; the access log names the key by its name.
 */

const ALICE = 'rk-alice-object-key-1111';
const BOB = 'rk-bob-object-key-2222';
const PLAIN = 'rk-plain-string-key-3333';
const BACKEND_KEY = 'sk-backend-4444';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyChat('Hi!'));
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: BACKEND_KEY },
    auth: { keys: [{ name: 'alice', key: ALICE }, PLAIN, { name: 'bob', key: BOB, models: null, rpm: null }] },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const BODY = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

async function post(headers: Record<string, string>, requestId: string): Promise<number> {
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers },
    body: BODY,
  });
  await res.arrayBuffer();
  return res.status;
}

test('an object key is accepted by the SDK (Authorization: Bearer) and logged under its name', { timeout: 5_000 }, async () => {
  const completion = await clientFor(relay, ALICE).chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
    { headers: { 'x-request-id': 'obj-bearer' } },
  );
  assert.equal(completion.choices[0]?.message.content, 'Hi!');
  const seen = upstream.requests.at(-1);
  assert.equal(seen?.headers.authorization, `Bearer ${BACKEND_KEY}`, 'the backend key replaces the client key');
  assert.ok(!seen?.rawHeaders.join('\n').includes(ALICE), 'the client key never travels upstream');
  assert.equal((await accessLogFor(relay, 'obj-bearer')).access_key, 'alice');
});

test('an object key is accepted in x-api-key and in api-key too', { timeout: 5_000 }, async () => {
  assert.equal(await post({ 'x-api-key': BOB }, 'obj-x-api-key'), 200);
  assert.ok(!upstream.requests.at(-1)?.rawHeaders.join('\n').includes(BOB));
  assert.equal(await post({ 'api-key': ALICE }, 'obj-api-key'), 200);
  assert.ok(!upstream.requests.at(-1)?.rawHeaders.join('\n').includes(ALICE));
  assert.equal((await accessLogFor(relay, 'obj-x-api-key')).access_key, 'bob');
  assert.equal((await accessLogFor(relay, 'obj-api-key')).access_key, 'alice');
});

test('a plain string key still works in each header, named key-<fingerprint>', { timeout: 5_000 }, async () => {
  const completion = await clientFor(relay, PLAIN).chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
    { headers: { 'x-request-id': 'plain-bearer' } },
  );
  assert.equal(completion.choices[0]?.message.content, 'Hi!');
  assert.equal(await post({ 'x-api-key': PLAIN }, 'plain-x-api-key'), 200);
  assert.equal(await post({ 'api-key': PLAIN }, 'plain-api-key'), 200);
  for (const id of ['plain-bearer', 'plain-x-api-key', 'plain-api-key']) {
    assert.equal((await accessLogFor(relay, id)).access_key, plainKeyName(PLAIN), id);
  }
  assert.match(plainKeyName(PLAIN), /^key-/);
  assert.ok(!plainKeyName(PLAIN).includes(PLAIN));
});

test('an unknown key is refused with 401 even when a known one is a prefix of it, and nothing is forwarded', { timeout: 5_000 }, async () => {
  const before = upstream.requests.length;
  const wrong: Record<string, string>[] = [{ authorization: `Bearer ${ALICE}x` }, { 'x-api-key': ALICE.slice(0, -1) }, { 'api-key': 'alice' }];
  for (const headers of wrong) {
    assert.equal(await post(headers, 'unknown-key'), 401, JSON.stringify(headers));
  }
  assert.equal(upstream.requests.length, before, 'the backend received nothing');
});
