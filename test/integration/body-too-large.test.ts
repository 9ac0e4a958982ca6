import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream();
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: '' },
    model: { mapping: { 'gpt-4': 'gpt-4-turbo' } },
    request: { max_body_size: '1kb' },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

/** A valid chat body of exactly `size` bytes. */
function chatBody(size: number): Buffer {
  const head = '{"model":"gpt-4","messages":[{"role":"user","content":"';
  const tail = '"}]}';
  return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
}

async function readJson(res: IncomingMessage): Promise<{ error: { message: string; type: string; code: string } }> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as { error: { message: string; type: string; code: string } };
}

function assertTooLarge(res: IncomingMessage, json: { error: { message: string; type: string; code: string } }): void {
  assert.equal(res.statusCode, 413);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(json.error.code, 'request_too_large');
  assert.equal(json.error.type, 'invalid_request_error');
  assert.match(json.error.message, /max_body_size/);
}

test('answers a JSON body over max_body_size declared by content-length with a 413 and forwards nothing', async () => {
  const body = chatBody(2000);
  const req = request(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } });
  req.on('error', () => undefined);
  req.end(body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  assertTooLarge(res, await readJson(res));
  const log = await relay.nextAccessLog();
  assert.equal(log.status, 413);
  assert.equal(upstream.requests.length, 0);
});

test('answers a chunked JSON body that grows over max_body_size with a 413 and forwards nothing', async () => {
  const body = chatBody(2000);
  const req = request(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
  req.on('error', () => undefined);
  // Never end the request: the relay must answer as soon as the limit is passed, not wait for the end.
  req.write(body.subarray(0, 800));
  req.write(body.subarray(800, 1600));
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  assertTooLarge(res, await readJson(res));
  req.destroy();
  const log = await relay.nextAccessLog();
  assert.equal(log.status, 413);
  assert.equal(upstream.requests.length, 0);
});

test('relays a JSON body exactly at max_body_size', async () => {
  const body = chatBody(1024);
  const res = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  await relay.nextAccessLog();
  const seen = upstream.requests.at(-1);
  assert.equal(upstream.requests.length, 1);
  assert.equal((JSON.parse(seen?.body.toString() ?? '') as { model: string }).model, 'gpt-4-turbo');
});

test('answers an oversized body sent by fetch with a 413 in OpenAI shape', async () => {
  const res = await fetch(`${relay.baseURL}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(5000) });
  assert.equal(res.status, 413);
  const json = (await res.json()) as { error: { code: string } };
  assert.equal(json.error.code, 'request_too_large');
  await relay.nextAccessLog();
  assert.equal(upstream.requests.length, 1, 'only the earlier valid request reached the mock');
});
