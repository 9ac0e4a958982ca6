import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startMockUpstream, type MockHandler, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** Answers each endpoint with a minimal OpenAI-shaped body echoing the model it received. */
const reply: MockHandler = (req, res) => {
  const model = (JSON.parse(req.body.toString()) as { model?: unknown }).model;
  const body = req.url.endsWith('/embeddings')
    ? { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model, usage: { prompt_tokens: 1, total_tokens: 1 } }
    : req.url.endsWith('/chat/completions')
      ? { id: 'c', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] }
      : { id: 'c', object: 'text_completion', created: 1, model, choices: [{ index: 0, text: 'hi', finish_reason: 'stop', logprobs: null }] };
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

let upstream: MockUpstream;
let relay: RunningRelay;
let client: OpenAI;

before(async () => {
  upstream = await startMockUpstream(reply);
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: '' },
    model: { override: 'forced-model', mapping: { 'gpt-4': 'gpt-4-turbo' } },
  });
  client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

function sentModel(seen: RecordedRequest): unknown {
  return (JSON.parse(seen.body.toString()) as { model?: unknown }).model;
}

test('override forces the model of a chat completion, even one the mapping knows', async () => {
  const pending = upstream.nextRequest();
  const completion = await client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'Hello!' }] });
  const seen = await pending;
  assert.equal(seen.url, '/v1/chat/completions');
  assert.equal(sentModel(seen), 'forced-model');
  assert.equal(completion.model, 'forced-model');
  assert.equal(seen.headers['content-length'], String(seen.body.length));
  const log = await relay.nextAccessLog();
  assert.equal(log.model, 'gpt-4');
  assert.equal(log.model_sent, 'forced-model');
});

test('override forces the model of a legacy completion', async () => {
  const pending = upstream.nextRequest();
  await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi', max_tokens: 5 });
  const seen = await pending;
  assert.equal(seen.url, '/v1/completions');
  assert.equal(sentModel(seen), 'forced-model');
  assert.deepEqual(JSON.parse(seen.body.toString()), { model: 'forced-model', prompt: 'Say hi', max_tokens: 5 });
  await relay.nextAccessLog();
});

test('override forces the model of an embeddings request', async () => {
  const pending = upstream.nextRequest();
  const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' });
  const seen = await pending;
  assert.equal(seen.url, '/v1/embeddings');
  assert.equal(sentModel(seen), 'forced-model');
  assert.deepEqual(result.data[0]?.embedding, [0.1, 0.2]);
  await relay.nextAccessLog();
});
