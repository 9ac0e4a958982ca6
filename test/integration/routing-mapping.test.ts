import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import type { MockUpstream } from '../helpers/mock-upstream.js';
import { clientOf, closeAll, contentOf, postChat, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// Model names on the way to a backend: the global `model.mapping` first (it decides the route),
// then the chosen backend's own `mapping` (Azure deployments, OpenRouter's vendor/ prefix).

let azure: MockUpstream;
let openrouter: MockUpstream;
let relay: RunningRelay;
let echoing: RunningRelay;
let overriding: RunningRelay;

const backends = (): Record<string, unknown>[] => [
  { name: 'azure', base_url: azure.url, api_key: 'sk-azure', models: ['gpt-4o'], mapping: { 'gpt-4o': 'my-gpt4o-deployment' } },
  { name: 'openrouter', base_url: openrouter.url, api_key: 'sk-or', models: ['deepseek-chat', 'qwen-*'], mapping: { 'deepseek-chat': 'deepseek/deepseek-chat' } },
];

before(async () => {
  azure = await startLabelled('azure');
  openrouter = await startLabelled('openrouter');
  const model = { mapping: { fast: 'deepseek-chat', smart: 'gpt-4o', lost: 'no-such-model' } };
  relay = await startRelay({ backends: backends(), model });
  echoing = await startRelay({ backends: backends(), model: { ...model, echo_alias: true } });
  overriding = await startRelay({ backends: backends(), model: { override: 'deepseek-chat' } });
});
after(() => closeAll(relay, echoing, overriding, azure, openrouter));

test("a backend's mapping sends its own name; the client sees what the backend answers", { timeout: 10_000 }, async () => {
  const pending = azure.nextRequest();
  const { data, response } = await clientOf(relay)
    .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'map-azure' } })
    .withResponse();
  const seen = await pending;
  assert.equal((JSON.parse(seen.body.toString()) as { model: string }).model, 'my-gpt4o-deployment');
  assert.equal(data.model, 'my-gpt4o-deployment', 'without echo_alias the answer is verbatim');
  assert.equal(data.choices[0]?.message.content, 'azure');
  assert.equal(response.headers.get('x-relay-backend'), 'azure');
  const log = await accessLogFor(relay, 'map-azure');
  assert.equal(log.model, 'gpt-4o');
  assert.equal(log.model_sent, 'my-gpt4o-deployment');
  assert.equal(log.model_rewritten, true);
});

test('a name the mapping does not list goes to the backend unchanged', { timeout: 10_000 }, async () => {
  const pending = openrouter.nextRequest();
  const answer = await postChat(relay, 'qwen-max');
  assert.equal(answer.status, 200);
  assert.equal((JSON.parse((await pending).body.toString()) as { model: string }).model, 'qwen-max');
});

test('the global model.mapping applies before routing, then the backend mapping', { timeout: 10_000 }, async () => {
  // `fast` is served by no backend as such: only its global mapping (deepseek-chat) routes it.
  const pending = openrouter.nextRequest();
  const client = clientOf(relay);
  const fast = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(fast.choices[0]?.message.content, 'openrouter');
  assert.equal((JSON.parse((await pending).body.toString()) as { model: string }).model, 'deepseek/deepseek-chat');

  const azurePending = azure.nextRequest();
  const smart = await client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(smart.choices[0]?.message.content, 'azure');
  assert.equal((JSON.parse((await azurePending).body.toString()) as { model: string }).model, 'my-gpt4o-deployment');

  const azureBefore = azure.requests.length;
  const orBefore = openrouter.requests.length;
  const lost = await postChat(relay, 'lost', { requestId: 'map-lost' });
  assert.equal(lost.status, 404, 'an alias whose target no backend serves is not routed');
  assert.equal((JSON.parse(lost.text) as { error: { code: string } }).error.code, 'model_not_found');
  assert.equal(azure.requests.length, azureBefore);
  assert.equal(openrouter.requests.length, orBefore);
});

test('with echo_alias the client sees the name it asked for, the backend one in x-relay-upstream-model', { timeout: 10_000 }, async () => {
  const { data, response } = await clientOf(echoing)
    .chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  assert.equal(data.model, 'smart');
  assert.equal(response.headers.get('x-relay-upstream-model'), 'my-gpt4o-deployment');
  assert.equal(response.headers.get('x-relay-backend'), 'azure');
});

test('model.override decides the route too: every request goes where the forced model is served', { timeout: 10_000 }, async () => {
  const pending = openrouter.nextRequest();
  const answer = await postChat(overriding, 'gpt-4o');
  assert.equal(answer.status, 200);
  assert.equal(contentOf(answer), 'openrouter');
  assert.equal((JSON.parse((await pending).body.toString()) as { model: string }).model, 'deepseek/deepseek-chat');
});
