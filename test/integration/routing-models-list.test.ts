import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { deadPort } from '../helpers/dead-port.js';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { clientOf, closeAll, eventually } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// GET /v1/models with several backends: the union of what the config routes (aliases included) and
// each backend's own list (cached for model.list_ttl), showing only names a client can use; a
// backend that cannot list is left out without failing the call.

let openai: MockUpstream;
let openrouter: MockUpstream;
let relay: RunningRelay;

const list = (ids: string[], owner: string) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: owner })) });

before(async () => {
  openai = await startMockUpstream(replyJson(200, list(['gpt-4o', 'gpt-4o-mini', 'dall-e-3', 'whisper-1'], 'openai')));
  openrouter = await startMockUpstream(replyJson(200, list(['deepseek/deepseek-chat', 'deepseek/deepseek-r1', 'meta-llama/llama-3-70b'], 'openrouter-list')));
  relay = await startRelay({
    model: { mapping: { fast: 'gpt-4o-mini' }, list_ttl: 60 },
    backends: [
      { name: 'openai', base_url: openai.url, api_key: 'sk-openai', models: ['gpt-4o*'] },
      {
        name: 'openrouter',
        base_url: `${openrouter.url}/api/v1`,
        api_key: 'sk-or',
        models: ['deepseek-chat', 'deepseek-r1'],
        mapping: { 'deepseek-chat': 'deepseek/deepseek-chat', 'deepseek-r1': 'deepseek/deepseek-r1' },
      },
      { name: 'local', base_url: `http://127.0.0.1:${await deadPort()}`, models: ['llama3-8b'] },
    ],
  });
});
after(() => closeAll(relay, openai, openrouter));

test('the list is the union of routable config names and backends lists; a backend down does not fail it', { timeout: 10_000 }, async () => {
  const models = [];
  for await (const m of clientOf(relay).models.list()) models.push(m);
  const ids = models.map((m) => m.id).sort();
  assert.deepEqual(ids, ['deepseek-chat', 'deepseek-r1', 'fast', 'gpt-4o', 'gpt-4o-mini', 'llama3-8b']);
  const byId = new Map(models.map((m) => [m.id, m]));
  assert.equal(byId.get('gpt-4o')?.owned_by, 'openai', "a backend's entry keeps its fields");
  assert.equal(byId.get('gpt-4o')?.created, 1700000000);
  assert.equal(byId.get('deepseek-chat')?.owned_by, 'openrouter-list', 'an alias shows the entry of the model it maps to');
  assert.equal(byId.get('llama3-8b')?.owned_by, 'local', 'a configured name of a backend that cannot list is still shown');
  for (const m of models) assert.equal(m.object, 'model');

  assert.equal(openai.requests.length, 1);
  assert.equal(openai.requests[0]?.url, '/v1/models');
  assert.equal(openai.requests[0]?.headers.authorization, 'Bearer sk-openai', "each backend is asked with its own key");
  assert.equal(openrouter.requests[0]?.url, '/api/v1/models');
  assert.equal(openrouter.requests[0]?.headers.authorization, 'Bearer sk-or');
  const warn = relay.logs.find((l) => l.level === 40 && l.backend === 'local');
  assert.ok(warn, 'the unlisted backend is named in a warn line');
});

test('the backends lists are cached for model.list_ttl: a second call asks no backend', { timeout: 10_000 }, async () => {
  const before = [openai.requests.length, openrouter.requests.length];
  const res = await fetch(`${relay.baseURL}/models`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as { object: string; data: { id: string }[] };
  assert.equal(body.object, 'list');
  assert.equal(body.data.length, 6);
  assert.deepEqual([openai.requests.length, openrouter.requests.length], before);
});

test('/v1/models/{id} answers for routable names and 404 model_not_found for others', { timeout: 10_000 }, async () => {
  const client = clientOf(relay);
  const gpt = await client.models.retrieve('gpt-4o');
  assert.equal(gpt.id, 'gpt-4o');
  assert.equal(gpt.owned_by, 'openai');
  assert.equal((await client.models.retrieve('fast')).id, 'fast');
  assert.equal((await client.models.retrieve('deepseek-r1')).id, 'deepseek-r1');
  const globbed = await client.models.retrieve('gpt-4o-2099-01-01');
  assert.equal(globbed.id, 'gpt-4o-2099-01-01', 'a name a glob routes is answered even if no list has it');
  assert.equal(globbed.owned_by, 'openai');

  for (const id of ['claude-3-opus', 'dall-e-3', 'deepseek/deepseek-chat']) {
    const err = await client.models.retrieve(id).then(
      () => assert.fail(`expected ${id} to be unknown`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.NotFoundError, `${id}: ${String(err)}`);
    assert.equal(err.code, 'model_not_found');
  }
  const raw = await fetch(`${relay.baseURL}/models/claude-3-opus`);
  assert.equal(raw.status, 404);
  const body = (await raw.json()) as { error: { code: string; type: string; message: string } };
  assert.equal(body.error.code, 'model_not_found');
  assert.equal(body.error.type, 'invalid_request_error');
});

test('a list older than list_ttl is fetched again; a slow backend is left out after list_timeout', { timeout: 10_000 }, async () => {
  const quick = await startMockUpstream(replyJson(200, list(['quick-1'], 'quick')));
  const slow = await startMockUpstream(() => undefined);
  const short = await startRelay({
    model: { list_ttl: 0.2, list_timeout: 0.3 },
    backends: [
      { name: 'quick', base_url: quick.url, models: ['quick-*'] },
      { name: 'slow', base_url: slow.url, models: ['slow-*'] },
    ],
  });
  try {
    const started = Date.now();
    const first = (await (await fetch(`${short.baseURL}/models`)).json()) as { data: { id: string }[] };
    assert.ok(Date.now() - started < 2_000, 'the slow backend did not hold the call');
    assert.deepEqual(first.data.map((m) => m.id), ['quick-1']);
    assert.equal(quick.requests.length, 1);
    await eventually(async () => {
      await fetch(`${short.baseURL}/models`).then((r) => r.arrayBuffer());
      return quick.requests.length >= 2;
    }, 3_000, 'the list to be fetched again after list_ttl', 50);
  } finally {
    await closeAll(short, quick, slow);
  }
});
