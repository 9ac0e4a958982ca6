import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { startBlackholePort, type BlackholePort } from '../helpers/blackhole-port.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let blackhole: BlackholePort;
let relay: RunningRelay;

before(async () => {
  // Connects to this port hang (verified by the helper): the relay's connect_timeout must end them.
  blackhole = await startBlackholePort();
  relay = await startRelay({
    backend: { base_url: `http://127.0.0.1:${blackhole.port}`, api_key: 'sk-backend' },
    request: { connect_timeout: 0.3, timeout: 30 },
  });
});
after(async () => {
  await relay.close();
  blackhole.close();
});

test('a connect slower than request.connect_timeout is answered with 504 upstream_connect_timeout', { timeout: 10_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const started = Date.now();
  const err = await client.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'connect-timeout-1' } })
    .then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
  const elapsed = Date.now() - started;
  assert.ok(err instanceof OpenAI.APIError && !(err instanceof OpenAI.APIConnectionError), `got ${String(err)}`);
  assert.equal(err.status, 504);
  assert.equal(err.code, 'upstream_connect_timeout');
  assert.equal(err.type, 'timeout_error');
  assert.ok(elapsed >= 250, `waited for the connect timeout (${elapsed} ms)`);
  assert.ok(elapsed < 5_000, `bounded by connect_timeout, not by timeout (${elapsed} ms)`);

  const log = await accessLogFor(relay, 'connect-timeout-1');
  assert.equal(log.status, 504);
  assert.equal(log.outcome, 'upstream_connect_timeout');
});

test('the connect-timeout answer is an OpenAI-shaped JSON body', { timeout: 10_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/models`);
  assert.equal(res.status, 504);
  const body = (await res.json()) as { error: Record<string, unknown> };
  assert.equal(body.error.code, 'upstream_connect_timeout');
  assert.equal(body.error.type, 'timeout_error');
  assert.equal(typeof body.error.message, 'string');
});
