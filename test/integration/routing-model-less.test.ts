import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createHash } from 'node:crypto';
import { toFile } from 'openai';
import { replyJson, startMockUpstream, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.js';
import { boundaryOf, parseMultipart, partNamed } from '../helpers/multipart.js';
import { createPrng } from '../helpers/seeded-bytes.js';
import { clientOf, closeAll } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// Requests that name no model (files, batches, stored responses) go where a `routes` rule's path
// prefix says, else to the first backend listed.

let first: MockUpstream;
let files: MockUpstream;
let batches: MockUpstream;
let relay: RunningRelay;

function labelled(label: string) {
  return startMockUpstream((req, res) => replyJson(200, { object: 'list', data: [], served_by: label, url: req.url })(req, res, undefined as never));
}

before(async () => {
  first = await labelled('first');
  files = await labelled('files');
  batches = await labelled('batches');
  relay = await startRelay({
    request: { spool_above: '256kb' },
    backends: [
      { name: 'first', base_url: first.url, api_key: 'sk-first', models: ['gpt-*'] },
      { name: 'files', base_url: files.url, api_key: 'sk-files', models: ['whisper-*'] },
      { name: 'batches', base_url: batches.url, api_key: 'sk-batches', models: ['o3*'] },
    ],
    routes: [
      { prefix: '/v1/files', backend: 'files' },
      { prefix: '/batches', backend: 'batches' },
    ],
  });
});
after(() => closeAll(relay, first, files, batches));

async function get(path: string): Promise<{ status: number; servedBy: string; backend: string | null }> {
  const res = await fetch(`${relay.url}${path}`, { headers: { authorization: 'Bearer sk-client' } });
  const body = (await res.json()) as { served_by?: string };
  return { status: res.status, servedBy: body.served_by ?? '', backend: res.headers.get('x-relay-backend') };
}

test('GET /v1/files goes to the backend its routes rule names, with that backend key', { timeout: 10_000 }, async () => {
  const pending = files.nextRequest();
  const { response } = await clientOf(relay).files.list().withResponse();
  assert.equal(response.headers.get('x-relay-backend'), 'files');
  const seen = await pending;
  assert.equal(seen.url, '/v1/files');
  assert.equal(seen.headers.authorization, 'Bearer sk-files');
  assert.equal((await get('/v1/files/file-abc123/content')).servedBy, 'files', 'a path below the prefix');
  assert.equal((await get('/v1/files?purpose=batch')).servedBy, 'files', 'with a query');
});

test('a prefix written without /v1 matches the same API path', { timeout: 10_000 }, async () => {
  const pending = batches.nextRequest();
  await clientOf(relay).batches.retrieve('batch_123');
  assert.equal((await pending).url, '/v1/batches/batch_123');
  assert.equal((await get('/v1/batches')).servedBy, 'batches');
});

test('other model-less requests go to the first backend', { timeout: 10_000 }, async () => {
  for (const path of ['/v1/responses/resp_123', '/v1/vector_stores', '/v1/filesystem', '/v1/files-extra', '/v1/assistants']) {
    const answer = await get(path);
    assert.equal(answer.status, 200);
    assert.equal(answer.servedBy, 'first', path);
    assert.equal(answer.backend, 'first');
  }
  const del = await fetch(`${relay.baseURL}/responses/resp_123`, { method: 'DELETE' });
  assert.equal(((await del.json()) as { served_by: string }).served_by, 'first');
});

test('a request with a model is still routed by its model, whatever its path', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/files`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"o3-mini","input":"x"}',
  });
  assert.equal(res.headers.get('x-relay-backend'), 'batches');
});

test('a file upload (multipart, no model field, larger than spool_above) goes to the files backend intact', { timeout: 10_000 }, async () => {
  const bytes = Buffer.alloc(1024 * 1024);
  createPrng(7)(bytes);
  const before = files.requests.length;
  await clientOf(relay).files.create({ file: await toFile(bytes, 'batch.jsonl', { type: 'application/jsonl' }), purpose: 'batch' });
  assert.equal(files.requests.length, before + 1);
  const seen = files.requests.at(-1) as RecordedRequest;
  assert.equal(seen.url, '/v1/files');
  const parts = parseMultipart(seen.body, boundaryOf(seen.headers['content-type']));
  assert.equal(partNamed(parts, 'purpose').data.toString(), 'batch');
  const file = partNamed(parts, 'file');
  assert.equal(file.filename, 'batch.jsonl');
  assert.equal(createHash('sha256').update(file.data).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
});
