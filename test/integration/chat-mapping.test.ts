import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyChat());
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: 'sk-backend-secret' },
    model: { mapping: { 'gpt-4': 'gpt-4-turbo' } },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('maps gpt-4 to gpt-4-turbo, injects the backend key and keeps every other byte', async () => {
  const client = new OpenAI({ apiKey: 'sk-client-anything', baseURL: relay.baseURL });
  const completion = await client.chat.completions.create({
    model: 'gpt-4',
    messages: [{ role: 'user', content: 'Hello!' }],
    temperature: 0.70,
  });
  assert.equal(completion.choices[0]?.message.content, 'Hello!');
  assert.equal(completion.model, 'gpt-4-turbo');
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.equal(seen.url, '/v1/chat/completions');
  assert.equal(seen.headers.authorization, 'Bearer sk-backend-secret');
  const sentBody = seen.body.toString();
  assert.equal(JSON.parse(sentBody).model, 'gpt-4-turbo');
  assert.equal(seen.headers['content-length'], String(seen.body.length));
  const log = await relay.nextAccessLog();
  assert.equal(log.model, 'gpt-4');
  assert.equal(log.model_sent, 'gpt-4-turbo');
  assert.equal(log.status, 200);
});

test('keeps key order, number spellings, escapes and unknown fields of the client body', async () => {
  const raw = '{ "z_unknown": {"nested": [1.50, 2e3]},\n  "model" : "gpt-4", "messages":[{"role":"user","content":"caf\\u00e9 \\"q\\""}], "x": -0.0 }';
  const res = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
  assert.equal(res.status, 200);
  const seen = upstream.requests.at(-1);
  assert.equal(seen?.body.toString(), raw.replace('"gpt-4"', '"gpt-4-turbo"'));
});
