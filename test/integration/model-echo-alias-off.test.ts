import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, replySse, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;
let client: OpenAI;

before(async () => {
  upstream = await startMockUpstream(replyChat());
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: '' }, model: { mapping: { 'gpt-4': 'gpt-4-turbo' } } });
  client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('shows the backend model to the client when echo_alias is off (the default)', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
  assert.equal(data.model, 'gpt-4-turbo');
  assert.equal(response.headers.get('x-relay-upstream-model'), null);
  await relay.nextAccessLog();
});

test('shows the backend model in every stream chunk when echo_alias is off', async () => {
  upstream.handle(replySse(['a', 'b'], { model: 'gpt-4-turbo' }));
  const stream = await client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'Hi' }], stream: true });
  const models: string[] = [];
  for await (const chunk of stream) models.push(chunk.model);
  assert.deepEqual(models, ['gpt-4-turbo', 'gpt-4-turbo']);
  await relay.nextAccessLog();
});
