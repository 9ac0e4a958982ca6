import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { scanJson } from '../../src/proxy/json-scan.js';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { ok: true }));
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: '' }, model: { mapping: { 'gpt-4': 'gpt-4-turbo' } } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const CASES: readonly { name: string; body: string; expected: string }[] = [
  {
    name: 'duplicate model keys',
    body: '{"model":"gpt-3.5-turbo","messages":[],"model":"gpt-4"}',
    expected: '{"messages":[],"model":"gpt-4-turbo"}',
  },
  {
    name: 'a __proto__ member',
    body: '{"__proto__":{"model":"x","admin":true},"model":"gpt-4"}',
    expected: '{"__proto__":{"model":"x","admin":true},"model":"gpt-4-turbo"}',
  },
  {
    name: 'an escaped key and value',
    body: '{"mod\\u0065l":"gpt\\u002d4","messages":[{"role":"user","model":"gpt-4","content":"\\ud83d\\ude00"}]}',
    expected: '{"mod\\u0065l":"gpt-4-turbo","messages":[{"role":"user","model":"gpt-4","content":"\\ud83d\\ude00"}]}',
  },
  {
    name: '100,000 nested arrays',
    body: `{"model":"gpt-4","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    expected: `{"model":"gpt-4-turbo","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
  },
];

for (const c of CASES) {
  test(`sends exactly one resolved model with a correct content-length for ${c.name}`, { timeout: 10_000 }, async () => {
    const pending = upstream.nextRequest();
    const res = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: c.body });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const seen = await pending;
    assert.equal(seen.body.toString(), c.expected);
    assert.equal(seen.headers['content-length'], String(seen.body.length));
    const scan = scanJson(seen.body);
    assert.ok(scan.ok);
    assert.equal(scan.members.filter((m) => m.key === 'model').length, 1);
    await relay.nextAccessLog();
  });
}

test('answers 100,000 unclosed nested arrays with a 400 and stays up', { timeout: 10_000 }, async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"model":"gpt-4","x":${'['.repeat(100_000)}`,
  });
  assert.equal(res.status, 400);
  await res.arrayBuffer();
  await relay.nextAccessLog();
  const health = await fetch(`${relay.url}/health`);
  assert.equal(health.status, 200);
  await health.arrayBuffer();
  assert.equal(upstream.requests.length, before);
});
