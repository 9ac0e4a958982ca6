import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** Any of these makes the relay read the model, so a malformed JSON body cannot be forwarded. */
const CONFIGS: readonly [string, Record<string, unknown>][] = [
  ['a mapping', { mapping: { 'gpt-4': 'gpt-4-turbo' } }],
  ['an override', { override: 'forced-model' }],
  ['echo_alias', { echo_alias: true }],
];

const MALFORMED: readonly string[] = [
  '{"model":"gpt-4","messages":[],}',
  '{"model":"gpt-4","messages":[',
  '{"model":"gpt-4"} {"model":"o1"}',
  '{model:"gpt-4"}',
  '{"model":"gpt-4","n":01}',
];

let upstream: MockUpstream;
const relays: RunningRelay[] = [];

before(async () => {
  upstream = await startMockUpstream();
  for (const [, model] of CONFIGS) relays.push(await startRelay({ backend: { base_url: upstream.url, api_key: '' }, model }));
});
after(async () => {
  for (const r of relays) await r.close();
  await upstream.close();
});

for (const [i, [name]] of CONFIGS.entries()) {
  test(`answers malformed JSON with a 400 invalid_json and forwards nothing, with ${name}`, async () => {
    const relay = relays[i] as RunningRelay;
    const before = upstream.requests.length;
    for (const body of MALFORMED) {
      const res = await fetch(`${relay.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer sk-client' },
        body,
      });
      assert.equal(res.status, 400, body);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const json = (await res.json()) as { error: { message: string; type: string; code: string; param: unknown } };
      assert.equal(json.error.code, 'invalid_json');
      assert.equal(json.error.type, 'invalid_request_error');
      assert.equal(typeof json.error.message, 'string');
      assert.ok(res.headers.get('x-request-id'));
      const log = await relay.nextAccessLog();
      assert.equal(log.status, 400);
    }
    // A valid request afterwards is the first thing the mock sees from this relay.
    const ok = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4","messages":[]}' });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    await relay.nextAccessLog();
    assert.equal(upstream.requests.length, before + 1);
    assert.equal(upstream.requests.at(-1)?.body.toString().includes('"messages":[]'), true);
  });
}

test('answers a JSON body that is only whitespace with a 400 when a rewrite applies', async () => {
  const relay = relays[0] as RunningRelay;
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '   \n' });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_json');
  await relay.nextAccessLog();
  assert.equal(upstream.requests.length, before);
});

test('treats application/vnd.api+json as JSON too', async () => {
  const relay = relays[0] as RunningRelay;
  const res = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/vnd.api+json' }, body: '{"model":' });
  assert.equal(res.status, 400);
  await res.arrayBuffer();
  await relay.nextAccessLog();
});
