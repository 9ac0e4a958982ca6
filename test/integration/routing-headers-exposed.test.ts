import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MockUpstream } from '../helpers/mock-upstream.js';
import { closeAll, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// The headers that say which backend served a request and in how many tries are readable by a
// browser app (listed in Access-Control-Expose-Headers), like x-request-id.

let a: MockUpstream;
let b: MockUpstream;
let relay: RunningRelay;

before(async () => {
  a = await startLabelled('a');
  b = await startLabelled('b');
  relay = await startRelay({ backends: [{ name: 'a', base_url: a.url, models: ['gpt-*'] }, { name: 'b', base_url: b.url, models: ['o3'] }] });
});
after(() => closeAll(relay, a, b));

test('x-relay-backend and x-relay-attempts are exposed to browsers', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'https://app.example' },
    body: '{"model":"o3","messages":[]}',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-relay-backend'), 'b');
  assert.equal(res.headers.get('x-relay-attempts'), '1');
  const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
  assert.ok(exposed.includes('x-relay-backend'), exposed.join(', '));
  assert.ok(exposed.includes('x-relay-attempts'), `x-relay-attempts is exposed: ${exposed.join(', ')}`);
});
