import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * With backend.api_key set the backend sees that key alone (`Authorization: Bearer …`), whatever
 * credentials the client sent; with it empty the client's credentials pass unchanged.
 */

const BACKEND_KEY = 'sk-backend-secret-0123456789';

let upstream: MockUpstream;
let hiding: RunningRelay;
let passing: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyChat('Hello!'));
  hiding = await startRelay({ backend: { base_url: upstream.url, api_key: BACKEND_KEY } });
  passing = await startRelay({ backend: { base_url: upstream.url, api_key: '' } });
});
after(async () => {
  await hiding.close();
  await passing.close();
  await upstream.close();
});

/** Every [name, value] the backend got for the credential headers, case-insensitively. */
function credentials(seen: RecordedRequest): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < seen.rawHeaders.length; i += 2) {
    const name = (seen.rawHeaders[i] as string).toLowerCase();
    if (name === 'authorization' || name === 'api-key' || name === 'x-api-key') out.push([name, seen.rawHeaders[i + 1] as string]);
  }
  return out;
}

const BODY = '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]}';

test('SDK client: the backend sees only the backend key, never the client key', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client-key', baseURL: hiding.baseURL, maxRetries: 0, defaultHeaders: { 'api-key': 'azure-style-client', 'x-api-key': 'anthropic-style-client' } });
  const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] });
  assert.equal(completion.choices[0]?.message.content, 'Hello!');
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.deepEqual(credentials(seen), [['authorization', `Bearer ${BACKEND_KEY}`]]);
  assert.doesNotMatch(seen.rawHeaders.join('\n'), /client/);
});

test('raw client: Authorization, api-key and x-api-key in any case and repeated are all replaced by the backend key', { timeout: 10_000 }, async () => {
  const request =
    `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${hiding.port}\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n` +
    'AUTHORIZATION: Bearer sk-client-1\r\nauthorization: Basic Y2xpZW50OnB3\r\nApi-Key: client-2\r\nX-API-KEY: client-3\r\nx-api-key: client-4\r\n' +
    `Connection: close\r\n\r\n${BODY}`;
  const res = await rawRequest(hiding.port, request);
  assert.equal(res.status, 200, res.raw);
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.deepEqual(credentials(seen), [['authorization', `Bearer ${BACKEND_KEY}`]]);
  assert.doesNotMatch(seen.rawHeaders.join('\n'), /client|Y2xpZW50OnB3/);
});

test('raw client without any credential: the backend still gets the backend key', { timeout: 10_000 }, async () => {
  const res = await fetch(`${hiding.baseURL}/models`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.deepEqual(credentials(seen), [['authorization', `Bearer ${BACKEND_KEY}`]]);
});

test('with an empty backend key the client Authorization passes unchanged (SDK client)', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-user-own-key', baseURL: passing.baseURL, maxRetries: 0 });
  await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] });
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.deepEqual(credentials(seen), [['authorization', 'Bearer sk-user-own-key']]);
});

test('with an empty backend key Authorization, api-key and x-api-key pass unchanged (raw client)', { timeout: 10_000 }, async () => {
  const res = await fetch(`${passing.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-user-1', 'api-key': 'azure-key-2', 'x-api-key': 'anthropic-key-3' },
    body: BODY,
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.deepEqual(
    credentials(seen).sort((a, b) => (a[0] as string).localeCompare(b[0] as string)),
    [
      ['api-key', 'azure-key-2'],
      ['authorization', 'Bearer sk-user-1'],
      ['x-api-key', 'anthropic-key-3'],
    ],
  );
  assert.doesNotMatch(seen.rawHeaders.join('\n'), new RegExp(BACKEND_KEY));
});
