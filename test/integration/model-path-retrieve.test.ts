import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;
let client: OpenAI;

before(async () => {
  upstream = await startMockUpstream((req, res) => {
    const id = decodeURIComponent(req.url.split('/').pop() ?? '');
    const body = req.method === 'DELETE' ? { id, object: 'model', deleted: true } : { id, object: 'model', created: 1, owned_by: 'mock' };
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: '' },
    model: { mapping: { 'gpt-4': 'gpt-4-turbo', 'ft:gpt-4o:org:alias': 'ft:gpt-4o:org:real/v2' } },
  });
  client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('rewrites GET /v1/models/gpt-4 to /v1/models/gpt-4-turbo (SDK models.retrieve)', async () => {
  const pending = upstream.nextRequest();
  const model = await client.models.retrieve('gpt-4');
  const seen = await pending;
  assert.equal(seen.method, 'GET');
  assert.equal(seen.url, '/v1/models/gpt-4-turbo');
  assert.equal(model.id, 'gpt-4-turbo');
  const log = await relay.nextAccessLog();
  assert.equal(log.model, 'gpt-4');
  assert.equal(log.model_sent, 'gpt-4-turbo');
});

test('leaves GET /v1/models/{unknown} untouched', async () => {
  const pending = upstream.nextRequest();
  await client.models.retrieve('o3-mini');
  assert.equal((await pending).url, '/v1/models/o3-mini');
  await relay.nextAccessLog();
});

test('percent-encodes a mapped name with reserved characters in the path', async () => {
  const pending = upstream.nextRequest();
  await client.models.retrieve('ft:gpt-4o:org:alias');
  const seen = await pending;
  assert.equal(decodeURIComponent(seen.url.slice('/v1/models/'.length)), 'ft:gpt-4o:org:real/v2');
  assert.ok(!seen.url.slice('/v1/models/'.length).includes('/'), `one path segment: ${seen.url}`);
  await relay.nextAccessLog();
});

test('never redirects DELETE /v1/models/gpt-4 to another model', async () => {
  const pending = upstream.nextRequest();
  const deleted = await client.models.delete('gpt-4');
  const seen = await pending;
  assert.equal(seen.method, 'DELETE');
  assert.equal(seen.url, '/v1/models/gpt-4');
  assert.equal(deleted.id, 'gpt-4');
  await relay.nextAccessLog();
});

test('leaves the model list at GET /v1/models alone', async () => {
  upstream.handle((_req, res) => {
    const text = JSON.stringify({ object: 'list', data: [{ id: 'gpt-4', object: 'model', created: 1, owned_by: 'mock' }] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  const pending = upstream.nextRequest();
  const page = await client.models.list();
  assert.equal((await pending).url, '/v1/models');
  assert.equal(page.data[0]?.id, 'gpt-4');
  await relay.nextAccessLog();
});
