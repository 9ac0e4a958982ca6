import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { deadPort } from '../helpers/dead-port.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let refused: RunningRelay;
let unresolvable: RunningRelay;

before(async () => {
  refused = await startRelay({ backend: { base_url: `http://127.0.0.1:${await deadPort()}`, api_key: 'sk-backend' } });
  unresolvable = await startRelay({ backend: { base_url: 'http://nonexistent.invalid', api_key: 'sk-backend' }, request: { connect_timeout: 5 } });
});
after(async () => {
  await refused.close();
  await unresolvable.close();
});

function assertOpenAiErrorShape(body: unknown, code: string): void {
  assert.ok(typeof body === 'object' && body !== null && 'error' in body, 'body has an error object');
  const error = (body as { error: Record<string, unknown> }).error;
  assert.equal(typeof error.message, 'string');
  assert.ok((error.message as string).length > 0);
  assert.equal(error.type, 'api_error');
  assert.equal(error.code, code);
}

test('a backend that refuses the connection gives the SDK an APIError with status 502', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: refused.baseURL, maxRetries: 0 });
  const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.APIError, `got ${String(err)}`);
  assert.ok(!(err instanceof OpenAI.APIConnectionError), 'the relay answered; the SDK must not see a connection error');
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_unreachable');
  assert.equal(err.type, 'api_error');
});

test('a refused connection is answered with a 502 OpenAI-shaped JSON body', { timeout: 10_000 }, async () => {
  const res = await fetch(`${refused.baseURL}/models`);
  assert.equal(res.status, 502);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body: unknown = await res.json();
  assertOpenAiErrorShape(body, 'upstream_unreachable');
  assert.ok(!JSON.stringify(body).includes('sk-backend'), 'the key never appears in an error body');
});

test('a backend host name that does not resolve is answered with 502 without hanging', { timeout: 10_000 }, async () => {
  const started = Date.now();
  const res = await fetch(`${unresolvable.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"gpt-4o","messages":[]}',
  });
  assert.equal(res.status, 502);
  assertOpenAiErrorShape(await res.json(), 'upstream_unreachable');
  assert.ok(Date.now() - started < 5_000, 'answered before the connect timeout');

  const client = new OpenAI({ apiKey: 'sk-client', baseURL: unresolvable.baseURL, maxRetries: 0 });
  await assert.rejects(client.models.list(), (e: unknown) => e instanceof OpenAI.APIError && e.status === 502);
});
