import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * A multipart body whose model field cannot be rewritten (the body ends inside it, or it is far too
 * long to be a model name) is the client's mistake: an OpenAI-shaped 4xx, and the backend never
 * gets a complete (truncated-but-well-framed) request.
 */
let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream();
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: '' }, model: { mapping: { 'whisper-alias': 'whisper-1' } } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

/** Sends `body` in 1000-byte chunks, a macrotask apart, so the relay sees it arrive piece by piece. */
function chunked(body: string): ReadableStream<Uint8Array> {
  const bytes = Buffer.from(body);
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      await new Promise((resolve) => setImmediate(resolve));
      controller.enqueue(bytes.subarray(at, at + 1000));
      at += 1000;
    },
  });
}

async function send(body: string): Promise<{ status: number; json: { error?: { type?: string; code?: string } } }> {
  const res = await fetch(`${relay.baseURL}/audio/transcriptions`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=B' },
    body: chunked(body),
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, json: (await res.json()) as { error?: { type?: string; code?: string } } };
}

test('answers a multipart body that ends inside the model field with a 400 and never completes the upstream request', { timeout: 10_000 }, async () => {
  const { status, json } = await send('--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-al');
  assert.equal(status, 400);
  assert.equal(json.error?.type, 'invalid_request_error');
  const log = await relay.nextAccessLog();
  assert.equal(log.status, 400);
  assert.ok(upstream.requests.every((r) => !r.complete), 'no complete request reached the backend');
});

test('answers a model field far too long to be a model name with a 4xx and never completes the upstream request', { timeout: 10_000 }, async () => {
  const { status, json } = await send(`--B\r\nContent-Disposition: form-data; name="model"\r\n\r\n${'x'.repeat(20_000)}\r\n--B--\r\n`);
  assert.ok(status >= 400 && status < 500, `status ${status}`);
  assert.equal(json.error?.type, 'invalid_request_error');
  await relay.nextAccessLog();
  assert.ok(upstream.requests.every((r) => !r.complete), 'no complete request reached the backend');
});
