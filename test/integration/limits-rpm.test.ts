import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor } from '../helpers/usage-fixtures.js';

/**
 * A key's `rpm` (issue 5): past it the SDK sees a 429 `rate_limit_exceeded` of type `requests`,
 * with `retry-after` and OpenAI's x-ratelimit-*-requests trio; successes carry the trio too, its
 * remaining count going down. A refused request never reaches the backend; other keys are not
 * affected.
 */

const LIMITED = 'rk-rpm-limited-0001';
const OTHER = 'rk-rpm-other-0002';
const OPEN = 'rk-rpm-unlimited-0003';
const RPM = 3;

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyChat('ok'));
  relay = await startRelay({
    backend: { base_url: upstream.url },
    auth: { keys: [{ name: 'limited', key: LIMITED, rpm: RPM }, { name: 'other', key: OTHER, rpm: RPM }, OPEN] },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };

/** Go's duration format, as OpenAI writes the reset headers: "20s", "59.98s", "1m0s", "300ms". */
const DURATION = /^(?:\d+m)?\d+(?:\.\d+)?(?:s|ms)$/;

test('successes carry the requests trio; the request past rpm gets 429 rate_limit_exceeded with retry-after and never reaches the backend', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, LIMITED);
  const before = upstream.requests.length;
  for (let i = 1; i <= RPM; i++) {
    const { data, response } = await client.chat.completions.create(CHAT).withResponse();
    assert.equal(data.choices[0]?.message.content, 'ok');
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), String(RPM));
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(RPM - i), `remaining after request ${i}`);
    assert.match(response.headers.get('x-ratelimit-reset-requests') ?? '', DURATION);
    assert.equal(response.headers.get('x-ratelimit-limit-tokens'), null, 'no tokens trio without tpm');
  }
  assert.equal(upstream.requests.length, before + RPM);

  const err = await apiErrorOf(client.chat.completions.create(CHAT));
  assert.ok(err instanceof OpenAI.RateLimitError, String(err));
  assert.equal(err.status, 429);
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.equal(err.type, 'requests');
  assert.match(err.message, /requests per min \(RPM\): Limit 3, Used 3, Requested 1/);
  assert.ok(!err.message.includes(LIMITED));
  const retryAfter = Number(err.headers.get('retry-after'));
  // One request comes back every 60 s / 3 = 20 s.
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 20, `retry-after ${err.headers.get('retry-after')}`);
  assert.ok(Number(err.headers.get('retry-after-ms')) > 0);
  assert.equal(err.headers.get('x-ratelimit-limit-requests'), String(RPM));
  assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
  assert.match(err.headers.get('x-ratelimit-reset-requests') ?? '', DURATION);

  // Streams are refused the same way, before anything is streamed.
  const streamErr = await apiErrorOf(client.chat.completions.create({ ...CHAT, stream: true }));
  assert.ok(streamErr instanceof OpenAI.RateLimitError, String(streamErr));
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before + RPM, headers: { authorization: `Bearer ${OPEN}` } }), []);
});

test('another key keeps its own allowance, and a key without limits gets no x-ratelimit headers', { timeout: 5_000 }, async () => {
  const { response } = await clientFor(relay, OTHER).chat.completions.create(CHAT).withResponse();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(RPM - 1));
  const open = await clientFor(relay, OPEN).chat.completions.create(CHAT).withResponse();
  assert.equal(open.response.status, 200);
  assert.equal(open.response.headers.get('x-ratelimit-limit-requests'), null);
});
