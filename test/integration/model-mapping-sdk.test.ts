import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;
let client: OpenAI;

before(async () => {
  upstream = await startMockUpstream(replyChat());
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: '' },
    model: { mapping: { 'gpt-4': 'gpt-4-turbo', 'gpt-3.5-turbo': 'gpt-4' } },
  });
  client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('maps gpt-3.5-turbo to gpt-4 once, not on through the chain to gpt-4-turbo', async () => {
  const pending = upstream.nextRequest();
  const completion = await client.chat.completions.create({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: 'Hello!' }] });
  const seen = await pending;
  assert.equal((JSON.parse(seen.body.toString()) as { model: string }).model, 'gpt-4');
  assert.equal(completion.model, 'gpt-4');
  await relay.nextAccessLog();
});

test('leaves a model name the mapping does not know untouched, byte for byte', async () => {
  const pending = upstream.nextRequest();
  const completion = await client.chat.completions.create({ model: 'o3-mini', messages: [{ role: 'user', content: 'Hello!' }], temperature: 0.5 });
  const seen = await pending;
  assert.equal(completion.model, 'o3-mini');
  assert.deepEqual(JSON.parse(seen.body.toString()), { model: 'o3-mini', messages: [{ role: 'user', content: 'Hello!' }], temperature: 0.5 });
  const log = await relay.nextAccessLog();
  assert.equal(log.model, 'o3-mini');
  assert.equal(log.model_sent, 'o3-mini');
  assert.equal(log.model_rewritten, false);
});

test('leaves a raw body with an unknown model exactly as the client sent it', async () => {
  const raw = '{"model" : "o3-mini",  "messages":[{"role":"user","content":"\\u00e9"}], "n":1.0}';
  const pending = upstream.nextRequest();
  const res = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const seen = await pending;
  assert.equal(seen.body.toString(), raw);
  assert.equal(seen.headers['content-length'], String(Buffer.byteLength(raw)));
  await relay.nextAccessLog();
});
