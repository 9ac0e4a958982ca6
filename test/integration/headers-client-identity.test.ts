import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** Headers that identify the client (address, proxy chain, CDN) stay at the relay unless server.forward_client_ip. */

let upstream: MockUpstream;
let hiding: RunningRelay;
let forwarding: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { ok: true }));
  hiding = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
  forwarding = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' }, server: { forward_client_ip: true } });
});
after(async () => {
  await hiding.close();
  await forwarding.close();
  await upstream.close();
});

const IDENTITY: Readonly<Record<string, string>> = {
  'x-forwarded-for': '203.0.113.7',
  'x-real-ip': '203.0.113.7',
  forwarded: 'for=203.0.113.7;proto=https',
  'cf-connecting-ip': '203.0.113.7',
  'cf-ipcountry': 'NL',
  'true-client-ip': '203.0.113.7',
  'x-forwarded-host': 'app.example',
  'x-forwarded-proto': 'https',
};

test('client identity headers are dropped by default', { timeout: 10_000 }, async () => {
  const res = await fetch(`${hiding.baseURL}/models`, { headers: { ...IDENTITY, 'x-custom': 'kept' } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  for (const name of Object.keys(IDENTITY)) assert.equal(seen.headers[name], undefined, `${name} must not reach the backend`);
  assert.doesNotMatch(seen.rawHeaders.join('\n'), /203\.0\.113\.7/);
  assert.equal(seen.headers['x-custom'], 'kept');
});

test('with forward_client_ip the identity headers pass and x-forwarded-for gets the client address appended', { timeout: 10_000 }, async () => {
  const res = await fetch(`${forwarding.baseURL}/models`, { headers: IDENTITY });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  for (const name of ['x-real-ip', 'forwarded', 'cf-connecting-ip', 'cf-ipcountry', 'true-client-ip', 'x-forwarded-host', 'x-forwarded-proto']) {
    assert.equal(seen.headers[name], IDENTITY[name], `${name} passes with forward_client_ip`);
  }
  const xff = seen.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => n.toLowerCase() === 'x-forwarded-for');
  assert.equal(xff.length, 1, 'a single x-forwarded-for line');
});

test('with forward_client_ip and no x-forwarded-for from the client, the relay sets it to the client address', { timeout: 10_000 }, async () => {
  const res = await fetch(`${forwarding.baseURL}/models`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.equal(upstream.requests.at(-1)?.headers['x-forwarded-for'], '127.0.0.1');
});
