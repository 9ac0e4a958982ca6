import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { chatCompletion, replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor } from '../helpers/usage-fixtures.js';

/**
 * A token budget (`budget: {tokens, period: day}`, issue 5) counts the tokens the backend reports,
 * settled after each request: once what is used plus the next estimate passes the budget, the SDK
 * sees 429 `insufficient_quota` (type `insufficient_quota`, retry-after until the next UTC day) and
 * the backend receives nothing. Other keys are not affected.
 */

const KEY = 'rk-budget-tokens-0001';
const OPEN = 'rk-budget-open-0002';
const BUDGET = 100;

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((req, res) => {
    const body = JSON.parse(req.body.toString() || '{}') as { model?: string; messages?: { content?: string }[] };
    const used = Number(/use:(\d+)/.exec(body.messages?.[0]?.content ?? '')?.[1] ?? 0);
    replyJson(200, { ...chatCompletion(body.model ?? 'm', 'ok'), usage: { prompt_tokens: used, completion_tokens: 0, total_tokens: used } })(req, res, undefined as never);
  });
  relay = await startRelay({
    backend: { base_url: upstream.url },
    auth: { keys: [{ name: 'budgeted', key: KEY, budget: { tokens: BUDGET, period: 'day' } }, OPEN] },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const ask = (used: number) => ({ model: 'gpt-4o', messages: [{ role: 'user' as const, content: `use:${used}` }] });

test('the request that would pass the token budget gets 429 insufficient_quota and never reaches the backend', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, KEY);
  // The estimate of this small body (~20 tokens) fits; the backend then reports 85 used.
  const first = await client.chat.completions.create(ask(85), { headers: { 'x-request-id': 'budget-t-1' } });
  assert.equal(first.usage?.total_tokens, 85);
  await accessLogFor(relay, 'budget-t-1');

  const before = upstream.requests.length;
  const err = await apiErrorOf(client.chat.completions.create(ask(1)));
  assert.ok(err instanceof OpenAI.RateLimitError, String(err));
  assert.equal(err.status, 429);
  assert.equal(err.code, 'insufficient_quota');
  assert.equal(err.type, 'insufficient_quota');
  assert.match(err.message, /daily token budget: 85 of 100 tokens used and this request needs about \d+ tokens/);
  const nextDay = new Date();
  nextDay.setUTCHours(24, 0, 0, 0);
  assert.ok(err.message.includes(nextDay.toISOString()), `renews at the next UTC midnight: ${err.message}`);
  const retryAfter = Number(err.headers.get('retry-after'));
  const untilMidnight = Math.ceil((nextDay.getTime() - Date.now()) / 1000);
  assert.ok(Math.abs(retryAfter - untilMidnight) <= 2, `retry-after ${retryAfter}, seconds to midnight ${untilMidnight}`);
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before, headers: { authorization: `Bearer ${OPEN}` } }), []);

  // Nothing was used by the refusal: the same answer, with the same figures, again.
  const again = await apiErrorOf(client.chat.completions.create(ask(1)));
  assert.match(again.message, /85 of 100 tokens used/);
});

test('another key is not affected by the exhausted budget', { timeout: 5_000 }, async () => {
  const completion = await clientFor(relay, OPEN).chat.completions.create(ask(500));
  assert.equal(completion.usage?.total_tokens, 500);
});
