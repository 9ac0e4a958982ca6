import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessLogFor } from '../helpers/access-log.js';
import { replyJson, startMockUpstream } from '../helpers/mock-upstream.js';
import { clientOf, closeAll, startLabelled } from '../helpers/routing.js';
import { startRelay } from '../helpers/start-relay.js';

// A backend answering 429 or 5xx before any byte went to the client: the request is tried on the
// next backend, and the failed answer's body never reaches the client.

for (const status of [429, 503, 500, 502, 504]) {
  test(`a ${status} from the first backend fails over to the second`, { timeout: 10_000 }, async () => {
    const failing = await startMockUpstream(replyJson(status, { error: { message: `failing said ${status}`, type: 'server_error', code: null } }, { 'x-failing': 'yes' }));
    const good = await startLabelled('good');
    const relay = await startRelay({
      retry: { backoff: 0 },
      backends: [
        { name: 'failing', base_url: failing.url, api_key: 'sk-a', priority: 0 },
        { name: 'good', base_url: good.url, api_key: 'sk-b', priority: 1 },
      ],
    });
    try {
      const requestId = `status-${status}`;
      const { data, response } = await clientOf(relay)
        .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': requestId } })
        .withResponse();
      assert.equal(response.status, 200);
      assert.equal(data.choices[0]?.message.content, 'good');
      assert.equal(response.headers.get('x-relay-backend'), 'good');
      assert.equal(response.headers.get('x-relay-attempts'), '2');
      assert.equal(response.headers.get('x-failing'), null, "the failed try's headers are not passed on");
      assert.equal(failing.requests.length, 1);
      assert.equal(good.requests.length, 1);
      const log = await accessLogFor(relay, requestId);
      assert.equal(log.backend, 'good');
      assert.equal(log.attempts, 2);
      assert.deepEqual(log.retried, [status]);
      assert.equal(log.status, 200);
    } finally {
      await closeAll(relay, failing, good);
    }
  });
}

test('a status left out of retry.on_status is not retried', { timeout: 10_000 }, async () => {
  const failing = await startMockUpstream(replyJson(500, { error: { message: 'boom', type: 'server_error' } }));
  const good = await startLabelled('good');
  const relay = await startRelay({
    retry: { backoff: 0, on_status: [503] },
    backends: [
      { name: 'failing', base_url: failing.url, priority: 0 },
      { name: 'good', base_url: good.url, priority: 1 },
    ],
  });
  try {
    const res = await fetch(`${relay.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m"}' });
    assert.equal(res.status, 500);
    assert.equal(await res.text(), '{"error":{"message":"boom","type":"server_error"}}');
    assert.equal(res.headers.get('x-relay-attempts'), '1');
    assert.equal(good.requests.length, 0);
  } finally {
    await closeAll(relay, failing, good);
  }
});
