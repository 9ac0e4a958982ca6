import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { expectRefused, wsUrl } from '../helpers/ws-client.js';

/** With WebSocket support on, requests that ask for another upgrade, and /health, keep their HTTP handling. */

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { object: 'list', data: [] }));
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-b' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('a WebSocket handshake on /health gets the health answer, not an upgrade', { timeout: 10_000 }, async () => {
  const refused = await expectRefused(wsUrl(relay, '/health'));
  assert.equal(refused.status, 200);
  assert.equal(refused.body, '{"status":"ok"}');
  assert.equal(upstream.requests.length, 0);
});

test('an Upgrade: h2c request (curl --http2 on http://) is relayed as plain HTTP, body included, and the connection stays usable', { timeout: 10_000 }, async () => {
  const body = '{"model":"m","input":"hello"}';
  const res = await rawRequest(
    relay.port,
    `POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
  assert.equal(res.status, 200);
  assert.equal(res.body, '{"object":"list","data":[]}');
  const seen = await upstream.nextRequest();
  assert.equal(seen.url, '/v1/embeddings');
  assert.equal(seen.body.toString(), body);
  assert.equal(seen.headers.upgrade, undefined);
  assert.equal(seen.headers['http2-settings'], undefined);
  assert.equal(seen.headers.authorization, 'Bearer sk-b');
});
