import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { chatCompletion, replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor } from '../helpers/usage-fixtures.js';

/**
 * A cost budget (`budget: {cost, period: month}`, issue 5) counts USD from `usage.prices` and the
 * usage the backend reports, priced at the model sent: once it is spent, the SDK sees 429
 * `insufficient_quota`, and the backend receives nothing.
 */

const KEY = 'rk-budget-cost-0001';
const OPEN = 'rk-budget-cost-open-0002';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((req, res) => {
    const body = JSON.parse(req.body.toString() || '{}') as { model?: string };
    replyJson(200, { ...chatCompletion(body.model ?? 'm', 'ok'), usage: { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 } })(req, res, undefined as never);
  });
  relay = await startRelay({
    backend: { base_url: upstream.url },
    model: { mapping: { smart: 'gpt-4o' } },
    usage: { prices: { 'gpt-4o': { input: 2.5, output: 10 }, '*': { input: 0, output: 0 } } },
    auth: { keys: [{ name: 'spender', key: KEY, budget: { cost: 0.02, period: 'month' } }, OPEN] },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const ask = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] });

test('once the cost budget is spent the SDK sees 429 insufficient_quota and the backend receives nothing', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, KEY);
  // 1000 in at $2.5/M + 1000 out at $10/M = $0.0125 each, priced at the model sent (smart → gpt-4o).
  await client.chat.completions.create(ask('smart'), { headers: { 'x-request-id': 'budget-c-1' } });
  await accessLogFor(relay, 'budget-c-1');
  await client.chat.completions.create(ask('gpt-4o'), { headers: { 'x-request-id': 'budget-c-2' } });
  await accessLogFor(relay, 'budget-c-2');

  const before = upstream.requests.length;
  const err = await apiErrorOf(client.chat.completions.create(ask('gpt-4o')));
  assert.ok(err instanceof OpenAI.RateLimitError, String(err));
  assert.equal(err.code, 'insufficient_quota');
  assert.equal(err.type, 'insufficient_quota');
  assert.match(err.message, /monthly cost budget: \$0\.025 of \$0\.02 used\./);
  const nextMonth = new Date();
  nextMonth.setUTCMonth(nextMonth.getUTCMonth() + 1, 1);
  nextMonth.setUTCHours(0, 0, 0, 0);
  assert.ok(err.message.includes(nextMonth.toISOString()), `renews at the start of next UTC month: ${err.message}`);
  assert.ok(Number(err.headers.get('retry-after')) >= 1);
  // A free model costs nothing, but the budget is spent: refused too.
  assert.equal((await apiErrorOf(client.chat.completions.create(ask('free-model')))).code, 'insufficient_quota');
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before, headers: { authorization: `Bearer ${OPEN}` } }), []);
});
