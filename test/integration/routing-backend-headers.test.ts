import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MockUpstream } from '../helpers/mock-upstream.js';
import { clientOf, closeAll, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// Per-backend credentials and extras: Azure's `api-key` header and `api-version` query, OpenRouter's
// `HTTP-Referer`. They arrive as configured; the client's own credentials do not.

let azure: MockUpstream;
let openrouter: MockUpstream;
let relay: RunningRelay;

before(async () => {
  azure = await startLabelled('azure');
  openrouter = await startLabelled('openrouter');
  relay = await startRelay({
    backends: [
      {
        name: 'azure',
        base_url: `${azure.url}/openai`,
        api_key: 'azure-key-SECRET',
        key_header: 'api-key',
        query: { 'api-version': '2024-10-21' },
        models: ['gpt-4o'],
      },
      {
        name: 'openrouter',
        base_url: `${openrouter.url}/api/v1`,
        api_key: 'sk-or-SECRET',
        headers: { 'HTTP-Referer': 'https://relay.example', 'X-Title': 'Relay Bartender' },
        models: ['deepseek-*'],
      },
    ],
  });
});
after(() => closeAll(relay, azure, openrouter));

test('an Azure-style backend gets api-key and api-version as configured, never the client Authorization', { timeout: 10_000 }, async () => {
  const pending = azure.nextRequest();
  const client = clientOf(relay);
  const res = await client.chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
    { query: { 'api-version': '1999-01-01', other: 'kept' }, headers: { 'api-key': 'client-api-key' } },
  );
  assert.equal(res.choices[0]?.message.content, 'azure');
  const seen = await pending;
  const url = new URL(seen.url, 'http://x');
  assert.equal(url.pathname, '/openai/v1/chat/completions');
  assert.equal(url.searchParams.getAll('api-version').join(','), '2024-10-21', "the backend's api-version replaces the client's");
  assert.equal(url.searchParams.get('other'), 'kept');
  assert.equal(seen.headers['api-key'], 'azure-key-SECRET');
  assert.equal(seen.headers.authorization, undefined, 'the client Authorization is dropped');
  assert.ok(!JSON.stringify(seen.headers).includes('sk-client'));
  assert.ok(!JSON.stringify(seen.headers).includes('client-api-key'));
});

test('a backend with extra headers gets them (replacing the client ones) and its own Bearer key', { timeout: 10_000 }, async () => {
  const pending = openrouter.nextRequest();
  await clientOf(relay).chat.completions.create(
    { model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] },
    { headers: { 'http-referer': 'https://client.example' } },
  );
  const seen = await pending;
  assert.equal(seen.url, '/api/v1/chat/completions');
  assert.equal(seen.headers.authorization, 'Bearer sk-or-SECRET');
  assert.equal(seen.headers['http-referer'], 'https://relay.example');
  assert.equal(seen.headers['x-title'], 'Relay Bartender');
  assert.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'http-referer').length, 1, 'one HTTP-Referer');
  assert.equal(seen.headers['api-key'], undefined, "one backend's settings do not leak to another");
});
