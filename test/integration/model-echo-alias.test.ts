import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replySse, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** The backend's answer, with spacing, key order and escapes a re-serializer would lose. */
const BACKEND_BODY =
  '{\n  "id": "chatcmpl-1",\n  "object": "chat.completion",\n  "created": 1700000000,\n  "model": "gpt-4-turbo",\n' +
  '  "choices": [{"index": 0, "message": {"role": "assistant", "content": "caf\\u00e9 \\"model\\": gpt-4-turbo"}, "finish_reason": "stop"}],\n' +
  '  "usage": {"prompt_tokens": 5, "completion_tokens": 2.0, "total_tokens": 7},\n  "system_fingerprint": null\n}';

let upstream: MockUpstream;
let relay: RunningRelay;
let client: OpenAI;

before(async () => {
  upstream = await startMockUpstream((req, res) => {
    if ((JSON.parse(req.body.toString()) as { stream?: boolean }).stream === true) {
      void replySse(['Hel', 'lo', '!'], { model: 'gpt-4-turbo', extra: ': ping\n\nevent: message\nid: 7\n' })(req, res, undefined as never);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BACKEND_BODY), 'openai-processing-ms': '12' });
    res.end(BACKEND_BODY);
  });
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: '' },
    model: { mapping: { 'gpt-4': 'gpt-4-turbo' }, echo_alias: true },
  });
  client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('echoes the asked name in a JSON response, keeps every other byte and sets x-relay-upstream-model', async () => {
  const pending = upstream.nextRequest();
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"gpt-4","messages":[{"role":"user","content":"Hello!"}]}',
  });
  const text = await res.text();
  assert.equal((JSON.parse((await pending).body.toString()) as { model: string }).model, 'gpt-4-turbo', 'the backend still gets the mapped name');
  assert.equal(res.status, 200);
  assert.equal(text, BACKEND_BODY.replace('"model": "gpt-4-turbo"', '"model": "gpt-4"'));
  assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)));
  assert.equal(res.headers.get('x-relay-upstream-model'), 'gpt-4-turbo');
  assert.equal(res.headers.get('openai-processing-ms'), '12');
  await relay.nextAccessLog();
});

test('echoes the asked name through the SDK for a non-streamed completion', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'Hello!' }] }).withResponse();
  assert.equal(data.model, 'gpt-4');
  assert.equal(data.choices[0]?.message.content, 'café "model": gpt-4-turbo');
  assert.equal(response.headers.get('x-relay-upstream-model'), 'gpt-4-turbo');
  await relay.nextAccessLog();
});

test('echoes the asked name in every chunk of an SDK stream', async () => {
  const stream = await client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'Hello!' }], stream: true });
  const models: string[] = [];
  let content = '';
  for await (const chunk of stream) {
    models.push(chunk.model);
    content += chunk.choices[0]?.delta.content ?? '';
  }
  assert.deepEqual(models, ['gpt-4', 'gpt-4', 'gpt-4']);
  assert.equal(content, 'Hello!');
  await relay.nextAccessLog();
});

test('rewrites only the model in the raw SSE bytes and keeps comments, event and id lines and [DONE]', async () => {
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"gpt-4","stream":true,"messages":[]}',
  });
  assert.equal(res.headers.get('x-relay-upstream-model'), 'gpt-4-turbo');
  const text = await res.text();
  const chunk = (content: string): string =>
    `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
  assert.equal(text, `: ping\n\nevent: message\nid: 7\n${chunk('Hel')}${chunk('lo')}${chunk('!')}data: [DONE]\n\n`);
  await relay.nextAccessLog();
});

test('leaves the response alone when the asked name was not rewritten', async () => {
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"gpt-4-turbo","messages":[]}',
  });
  assert.equal(await res.text(), BACKEND_BODY);
  assert.equal(res.headers.get('x-relay-upstream-model'), null);
  await relay.nextAccessLog();
});
