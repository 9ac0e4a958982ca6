import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { requestsBesidesSentinel } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { apiErrorOf, clientFor } from '../helpers/usage-fixtures.js';

/**
 * A key's `models` allow-list (issue 5): names and `*` globs of the model the client asks for.
 * Any other model gets 403 `model_not_allowed` in OpenAI's shape (the SDK's PermissionDeniedError,
 * param `model`), and the backend receives nothing. Requests naming no model pass.
 */

const LIMITED = 'rk-limited-models-0001';
const FREE = 'rk-all-models-0002';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((req, res) => {
    if (req.url.endsWith('/models')) replyJson(200, { object: 'list', data: [{ id: 'gpt-4o', object: 'model', created: 1, owned_by: 'openai' }] })(req, res, undefined as never);
    else replyChat('allowed')(req, res, undefined as never);
  });
  relay = await startRelay({
    backend: { base_url: upstream.url },
    model: { mapping: { cheap: 'gpt-4o' } },
    auth: { keys: [{ name: 'limited', key: LIMITED, models: ['gpt-4o-mini', 'gpt-4.1*', 'cheap'] }, { name: 'free', key: FREE }] },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const ask = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] });

test('models on the list, by name or glob, are served', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, LIMITED);
  for (const model of ['gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-nano']) {
    const completion = await client.chat.completions.create(ask(model));
    assert.equal(completion.choices[0]?.message.content, 'allowed', model);
    assert.equal(completion.model, model);
  }
});

test('a model off the list gets 403 model_not_allowed (PermissionDeniedError) and the backend receives nothing', { timeout: 5_000 }, async () => {
  const before = upstream.requests.length;
  const client = clientFor(relay, LIMITED);
  for (const model of ['gpt-4o', 'gpt-4', 'GPT-4O-MINI']) {
    const err = await apiErrorOf(client.chat.completions.create(ask(model)));
    assert.ok(err instanceof OpenAI.PermissionDeniedError, `${model}: ${String(err)}`);
    assert.equal(err.status, 403);
    assert.equal(err.code, 'model_not_allowed');
    assert.equal(err.type, 'permission_error');
    assert.equal(err.param, 'model');
    assert.ok(err.message.includes(model), err.message);
    assert.ok(!err.message.includes(LIMITED));
  }
  // A streamed request is refused the same way, before any stream starts.
  const err = await apiErrorOf(client.chat.completions.create({ ...ask('gpt-4o'), stream: true }));
  assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
  assert.deepEqual(await requestsBesidesSentinel(relay, upstream, { since: before, headers: { authorization: `Bearer ${FREE}` } }), []);
});

test('the list is checked against the name the client asked for, not the mapped one', { timeout: 5_000 }, async () => {
  const completion = await clientFor(relay, LIMITED).chat.completions.create(ask('cheap'));
  assert.equal(completion.choices[0]?.message.content, 'allowed');
  assert.equal(JSON.parse(upstream.requests.at(-1)?.body.toString() ?? '{}').model, 'gpt-4o', 'the alias was mapped');
});

test('a request naming no model (model list) passes; a key without a list may use any model', { timeout: 5_000 }, async () => {
  const list = await clientFor(relay, LIMITED).models.list();
  assert.ok(list.data.length >= 1);
  const completion = await clientFor(relay, FREE).chat.completions.create(ask('gpt-4o'));
  assert.equal(completion.choices[0]?.message.content, 'allowed');
});
