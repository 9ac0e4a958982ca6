import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, sleep, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor } from '../helpers/usage-fixtures.js';

/**
 * `expires_at` (issue 5): a key past its expiry gets 401 `invalid_api_key` (the SDK's
 * AuthenticationError, saying it expired, never showing the key) and the backend receives nothing;
 * a key is let in up to its expiry and refused from then on, without a restart.
 */

const OLD = 'rk-expired-key-0001';
const SOON = 'rk-expires-soon-0002';
const FOREVER = 'rk-no-expiry-0003';
const CHAT = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };
/** How far in the future the `soon` key expires when its relay starts. */
const SOON_MS = 1_000;

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyChat('ok'));
  relay = await startRelay({
    backend: { base_url: upstream.url },
    auth: {
      keys: [
        { name: 'old', key: OLD, expires_at: '2020-01-31' },
        { name: 'forever', key: FOREVER, expires_at: '2999-12-31T23:59:59Z' },
      ],
    },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('an expired key gets 401 invalid_api_key through the SDK, saying it expired, and nothing is forwarded', { timeout: 5_000 }, async () => {
  const before = upstream.requests.length;
  const err = await apiErrorOf(clientFor(relay, OLD).chat.completions.create(CHAT));
  assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
  assert.equal(err.status, 401);
  assert.equal(err.code, 'invalid_api_key');
  assert.equal(err.type, 'authentication_error');
  assert.match(err.message, /expired at 2020-01-31T00:00:00\.000Z/);
  assert.ok(!err.message.includes(OLD), 'the message never shows the key');

  // The same in the other two headers.
  for (const header of ['x-api-key', 'api-key']) {
    const res = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', [header]: OLD }, body: JSON.stringify(CHAT) });
    assert.equal(res.status, 401, header);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
  }
  assert.equal(upstream.requests.length, before, 'the backend received nothing');
});

test('a key with a future expiry works', { timeout: 5_000 }, async () => {
  const completion = await clientFor(relay, FOREVER).chat.completions.create(CHAT);
  assert.equal(completion.choices[0]?.message.content, 'ok');
});

test('a key works until its expires_at and is refused from then on, without a restart', { timeout: 5_000 }, async () => {
  // A relay of its own, started here, so the expiry is measured from this test's start.
  const soonExpiry = Date.now() + SOON_MS;
  const soon = await startRelay({ backend: { base_url: upstream.url }, auth: { keys: [{ name: 'soon', key: SOON, expires_at: new Date(soonExpiry).toISOString() }] } });
  try {
    const client = clientFor(soon, SOON);
    const completion = await client.chat.completions.create(CHAT);
    assert.equal(completion.choices[0]?.message.content, 'ok');
    assert.ok(Date.now() < soonExpiry, 'the request was served before the expiry');

    // Time itself is the event here: wait until the expiry has passed.
    await sleep(Math.max(0, soonExpiry - Date.now()) + 20);
    const before = upstream.requests.length;
    const err = await apiErrorOf(client.chat.completions.create(CHAT));
    assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
    assert.match(err.message, /expired/);
    assert.equal(upstream.requests.length, before, 'the backend received nothing');
  } finally {
    await soon.close();
  }
});
