import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import type { MockUpstream } from '../helpers/mock-upstream.js';
import { assertOpenAiError, clientOf, closeAll, postChat, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// Routing by the model name: exact names and `*` globs pick the backend; a name no backend serves
// is a 404 in OpenAI's shape, and no backend hears of it.

let openai: MockUpstream;
let deepseek: MockUpstream;
let local: MockUpstream;
let relay: RunningRelay;

before(async () => {
  openai = await startLabelled('openai');
  deepseek = await startLabelled('deepseek');
  local = await startLabelled('local');
  relay = await startRelay({
    backends: [
      { name: 'openai', base_url: openai.url, api_key: 'sk-openai', models: ['gpt-4o*', 'o3'] },
      { name: 'deepseek', base_url: deepseek.url, api_key: 'sk-deepseek', models: ['deepseek-*'] },
      { name: 'local', base_url: local.url, models: ['llama3-8b'] },
    ],
  });
});
after(() => closeAll(relay, openai, deepseek, local));

const cases: readonly [model: string, backend: string][] = [
  ['gpt-4o', 'openai'],
  ['gpt-4o-mini', 'openai'],
  ['gpt-4o-2024-08-06', 'openai'],
  ['o3', 'openai'],
  ['deepseek-chat', 'deepseek'],
  ['deepseek-reasoner', 'deepseek'],
  ['llama3-8b', 'local'],
];

test('exact names and globs route each model to its backend, which receives the name unchanged', { timeout: 10_000 }, async () => {
  const client = clientOf(relay);
  for (const [model, backend] of cases) {
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(data.choices[0]?.message.content, backend, `${model} is served by ${backend}`);
    assert.equal(data.model, model, 'the backend received the model name as asked');
    assert.equal(response.headers.get('x-relay-backend'), backend);
    assert.equal(response.headers.get('x-relay-attempts'), '1');
  }
  assert.equal(openai.requests.length, 4);
  assert.equal(deepseek.requests.length, 2);
  assert.equal(local.requests.length, 1);
  assert.equal(openai.requests[0]?.headers.authorization, 'Bearer sk-openai');
  assert.equal(deepseek.requests[0]?.headers.authorization, 'Bearer sk-deepseek');
  assert.equal(local.requests[0]?.headers.authorization, 'Bearer sk-client', 'a backend without a key gets the client key');
});

test('the access log names the backend that served the request', { timeout: 10_000 }, async () => {
  const answer = await postChat(relay, 'deepseek-chat', { requestId: 'route-log-1' });
  assert.equal(answer.status, 200);
  const log = await accessLogFor(relay, 'route-log-1');
  assert.equal(log.backend, 'deepseek');
  assert.equal(log.attempts, 1);
  assert.equal(log.retried, undefined);
  assert.equal(log.model, 'deepseek-chat');
});

test('a model no backend serves is a 404 model_not_found (SDK NotFoundError) and reaches no backend', { timeout: 10_000 }, async () => {
  const before = [openai.requests.length, deepseek.requests.length, local.requests.length];
  const client = clientOf(relay);
  // An exact name is not a prefix (llama3-8b-instruct), globs are anchored (my-gpt-4o), and case counts.
  for (const model of ['claude-3-opus', 'llama3-8b-instruct', 'my-gpt-4o', 'GPT-4O', 'deepseek']) {
    const err = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => assert.fail(`expected ${model} to be refused`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.NotFoundError, `${model}: got ${String(err)}`);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.param, 'model');
  }
  const raw = await postChat(relay, 'claude-3-opus', { requestId: 'route-404' });
  assert.equal(raw.status, 404);
  assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
  assertOpenAiError(raw.text, 'model_not_found', 'invalid_request_error');
  assert.ok(raw.text.includes('claude-3-opus'), 'the message names the model');
  assert.equal(raw.headers.get('x-relay-backend'), null, 'no backend was tried');
  const log = await accessLogFor(relay, 'route-404');
  assert.equal(log.status, 404);
  assert.equal(log.outcome, 'model_not_found');
  assert.equal(log.backend, undefined);
  assert.deepEqual([openai.requests.length, deepseek.requests.length, local.requests.length], before, 'no backend received anything');
});

test('a streaming request for an unknown model gets the same 404 (JSON, not a stream)', { timeout: 10_000 }, async () => {
  const err = await clientOf(relay)
    .chat.completions.create({ model: 'claude-3-opus', messages: [{ role: 'user', content: 'hi' }], stream: true })
    .then(
      () => assert.fail('expected a 404'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof OpenAI.NotFoundError, String(err));
  assert.equal(err.code, 'model_not_found');
});
