import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, replyJson, replySse, sleep, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/** Every relayed response carries Server-Timing: the relay's own overhead and the backend's time to headers. */

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(async (req, res, raw) => {
    if (req.url.endsWith('/slow')) {
      await sleep(200);
      replyJson(200, { ok: true })(req, res, raw);
    } else if (req.url.endsWith('/limited')) {
      replyJson(429, { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded', param: null } }, { 'retry-after': '1' })(req, res, raw);
    } else if (req.body.includes('"stream":true')) {
      await replySse(['Hel', 'lo'], { model: 'gpt-4o' })(req, res, raw);
    } else {
      replyChat('Hello!')(req, res, raw);
    }
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

function parseServerTiming(value: string | null): Map<string, number> {
  assert.ok(value !== null, 'server-timing header present');
  const out = new Map<string, number>();
  for (const metric of value.split(',')) {
    const m = /^\s*([\w-]+)\s*;\s*dur=(\d+(?:\.\d+)?)\s*$/.exec(metric);
    assert.ok(m, `well-formed metric: ${JSON.stringify(metric)}`);
    out.set(m[1] as string, Number(m[2]));
  }
  assert.ok(out.has('relay'), `relay;dur= in ${value}`);
  assert.ok(out.has('upstream'), `upstream;dur= in ${value}`);
  return out;
}

test('a JSON response carries server-timing with relay;dur= and upstream;dur=', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] }).withResponse();
  parseServerTiming(response.headers.get('server-timing'));
});

test('a streamed (SSE) response carries server-timing', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const { data: stream, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }], stream: true }).withResponse();
  parseServerTiming(response.headers.get('server-timing'));
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  assert.equal(text, 'Hello');
});

test('an upstream error response (429) carries server-timing next to its retry-after', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const error = await client.get('/limited').then(
    () => assert.fail('expected a RateLimitError'),
    (err: unknown) => err,
  );
  assert.ok(error instanceof OpenAI.RateLimitError);
  assert.equal(error.headers.get('retry-after'), '1');
  parseServerTiming(error.headers.get('server-timing'));
});

test('upstream;dur measures the backend time to headers', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/slow`);
  await res.arrayBuffer();
  const timing = parseServerTiming(res.headers.get('server-timing'));
  assert.ok((timing.get('upstream') ?? 0) >= 190, `upstream;dur >= 190 ms for a 200 ms backend: ${res.headers.get('server-timing')}`);
  assert.ok((timing.get("relay") ?? Infinity) < (timing.get("upstream") ?? 0), `the relay overhead is not counted as backend time: ${res.headers.get("server-timing")}`);
});
