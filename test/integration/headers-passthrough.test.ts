import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { chatCompletion, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** End-to-end headers pass both ways: OpenAI's request headers up, its rate-limit and processing headers down. */

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream((_req, res) => {
    const body = JSON.stringify(chatCompletion('gpt-4o', 'Hello!'));
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.setHeader('openai-processing-ms', '123');
    res.setHeader('openai-version', '2020-10-01');
    res.setHeader('openai-organization', 'org-upstream');
    res.setHeader('x-ratelimit-remaining-requests', '4999');
    res.setHeader('x-ratelimit-limit-tokens', '800000');
    res.setHeader('x-ratelimit-reset-requests', '12ms');
    res.setHeader('set-cookie', ['__cf_bm=abc; Path=/; HttpOnly', '_cfuvid=def; Path=/; Secure']);
    res.setHeader('x-custom-response', 'from-backend');
    res.writeHead(200);
    res.end(body);
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('OpenAI-Organization, OpenAI-Project, OpenAI-Beta and a custom header reach the backend unchanged (SDK client)', { timeout: 10_000 }, async () => {
  const client = new OpenAI({
    apiKey: 'sk-client',
    baseURL: relay.baseURL,
    maxRetries: 0,
    organization: 'org-client-123',
    project: 'proj_abc',
    defaultHeaders: { 'OpenAI-Beta': 'assistants=v2', 'x-custom': 'custom value; with=params' },
  });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] }).withResponse();
  assert.equal(data.choices[0]?.message.content, 'Hello!');
  assert.equal(response.status, 200);
  const seen = upstream.requests.at(-1);
  assert.ok(seen);
  assert.equal(seen.headers['openai-organization'], 'org-client-123');
  assert.equal(seen.headers['openai-project'], 'proj_abc');
  assert.equal(seen.headers['openai-beta'], 'assistants=v2');
  assert.equal(seen.headers['x-custom'], 'custom value; with=params');
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.match(String(seen.headers['user-agent']), /OpenAI\/JS/);
});

test('the backend processing-time, version, rate-limit, set-cookie and custom headers reach the client unchanged', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] }).withResponse();
  assert.equal(response.headers.get('openai-processing-ms'), '123');
  assert.equal(response.headers.get('openai-version'), '2020-10-01');
  assert.equal(response.headers.get('openai-organization'), 'org-upstream');
  assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '4999');
  assert.equal(response.headers.get('x-ratelimit-limit-tokens'), '800000');
  assert.equal(response.headers.get('x-ratelimit-reset-requests'), '12ms');
  assert.equal(response.headers.get('x-custom-response'), 'from-backend');
  assert.deepEqual(response.headers.getSetCookie(), ['__cf_bm=abc; Path=/; HttpOnly', '_cfuvid=def; Path=/; Secure']);
});

test('repeated request headers reach the backend with every value', { timeout: 10_000 }, async () => {
  const headers = new Headers();
  headers.append('x-multi', 'one');
  headers.append('x-multi', 'two');
  headers.append('accept', 'application/json');
  const res = await fetch(`${relay.baseURL}/models`, { headers });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.equal(upstream.requests.at(-1)?.headers['x-multi'], 'one, two');
  assert.equal(upstream.requests.at(-1)?.headers.accept, 'application/json');
});
