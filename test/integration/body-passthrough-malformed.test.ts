import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

const BACKEND_ERROR = { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } };

let upstream: MockUpstream;
let plain: RunningRelay;
let mapped: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(400, BACKEND_ERROR, { 'x-backend': 'decided' }));
  plain = await startRelay({ backend: { base_url: upstream.url, api_key: '' }, model: { override: '', mapping: {}, echo_alias: false } });
  mapped = await startRelay({ backend: { base_url: upstream.url, api_key: '' }, model: { mapping: { 'gpt-4': 'gpt-4-turbo' } } });
});
after(async () => {
  await plain.close();
  await mapped.close();
  await upstream.close();
});

test('streams malformed JSON untouched to the backend when no rewrite is configured, and returns its answer', async () => {
  const body = '{"model":"gpt-4", "messages": [ ,,, }  trailing';
  const pending = upstream.nextRequest();
  const res = await fetch(`${plain.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const seen = await pending;
  assert.equal(seen.body.toString(), body);
  assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body)));
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('x-backend'), 'decided');
  assert.deepEqual(await res.json(), BACKEND_ERROR);
  const log = await plain.nextAccessLog();
  assert.equal(log.model, undefined);
});

test('streams a chunked malformed JSON body untouched when no rewrite is configured', async () => {
  const pieces = ['{"model":', '"gpt-4",', ' oops'];
  const pending = upstream.nextRequest();
  const res = await fetch(`${plain.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of pieces) controller.enqueue(new TextEncoder().encode(p));
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  const seen = await pending;
  assert.equal(seen.body.toString(), pieces.join(''));
  assert.equal(res.status, 400);
  await res.arrayBuffer();
  await plain.nextAccessLog();
});

test('passes a malformed body that is not declared JSON to the backend even when mapping', async () => {
  const body = '{"model":"gpt-4", broken';
  const pending = upstream.nextRequest();
  const res = await fetch(`${mapped.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
  const seen = await pending;
  assert.equal(seen.body.toString(), body);
  assert.equal(res.status, 400);
  await res.arrayBuffer();
  await mapped.nextAccessLog();
});
