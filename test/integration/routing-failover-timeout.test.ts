import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { hang, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { clientOf, closeAll, startLabelled } from '../helpers/routing.js';
import { withDeadline } from '../helpers/signal.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// A backend that sends no response headers within its own `timeout`: the try is abandoned (the
// backend's request aborted) and the next backend serves the request.

let slow: MockUpstream;
let good: MockUpstream;
let relay: RunningRelay;

before(async () => {
  slow = await startMockUpstream(hang());
  good = await startLabelled('good');
  relay = await startRelay({
    retry: { backoff: 0 },
    request: { timeout: 30 },
    backends: [
      { name: 'slow', base_url: slow.url, priority: 0, timeout: 0.5 },
      { name: 'good', base_url: good.url, priority: 1 },
    ],
  });
});
after(() => closeAll(relay, slow, good));

test("no headers within the backend's timeout fails over to the next backend", { timeout: 10_000 }, async () => {
  const aborted = slow.nextAbort();
  const started = Date.now();
  const { data, response } = await clientOf(relay)
    .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'timeout-1' } })
    .withResponse();
  const elapsed = Date.now() - started;
  assert.equal(data.choices[0]?.message.content, 'good');
  assert.equal(response.headers.get('x-relay-backend'), 'good');
  assert.equal(response.headers.get('x-relay-attempts'), '2');
  assert.ok(elapsed >= 450 && elapsed < 3_000, `failed over after about the per-backend timeout (${elapsed} ms), not request.timeout`);
  await withDeadline(aborted, 2_000, 'the relay to close the request to the slow backend');
  assert.equal(slow.requests.length, 1);
  const log = await accessLogFor(relay, 'timeout-1');
  assert.equal(log.backend, 'good');
  assert.equal(log.attempts, 2);
  assert.deepEqual(log.retried, ['UND_ERR_HEADERS_TIMEOUT']);
});
