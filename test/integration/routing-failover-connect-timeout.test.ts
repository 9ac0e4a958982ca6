import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { startBlackholePort } from '../helpers/blackhole-port.js';
import type { MockUpstream } from '../helpers/mock-upstream.js';
import { clientOf, closeAll, startLabelled } from '../helpers/routing.js';
import { startRelay } from '../helpers/start-relay.js';

// A backend whose TCP connect hangs past its own `connect_timeout`: the try is given up and the
// next backend serves the request, long before the global request.connect_timeout.

let good: MockUpstream;

before(async () => {
  good = await startLabelled('good');
});
after(() => closeAll(good));

test("a connect that hangs past the backend's connect_timeout fails over to the next backend", { timeout: 10_000 }, async () => {
  const blackhole = await startBlackholePort();
  const other = await startRelay({
    retry: { backoff: 0 },
    request: { connect_timeout: 30 },
    backends: [
      { name: 'unreachable', base_url: `http://127.0.0.1:${blackhole.port}`, priority: 0, connect_timeout: 0.3 },
      { name: 'good', base_url: good.url, priority: 1 },
    ],
  });
  try {
    const started = Date.now();
    const { data, response } = await clientOf(other)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'connect-timeout-1' } })
      .withResponse();
    const elapsed = Date.now() - started;
    assert.equal(data.choices[0]?.message.content, 'good');
    assert.equal(response.headers.get('x-relay-backend'), 'good');
    assert.equal(response.headers.get('x-relay-attempts'), '2');
    assert.ok(elapsed >= 250 && elapsed < 4_000, `failed over after about the per-backend connect_timeout (${elapsed} ms)`);
    const log = await accessLogFor(other, 'connect-timeout-1');
    assert.deepEqual(log.retried, ['UND_ERR_CONNECT_TIMEOUT']);
  } finally {
    await other.close();
    blackhole.close();
  }
});
