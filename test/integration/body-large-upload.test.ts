import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { seededBody } from '../helpers/seeded-bytes.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * A 50 MB upload (a transcription with its file first and its model field last). The body must
 * stream: the backend has to receive the bytes while the client is still sending. The sender is
 * never allowed to get more than MAX_LAG ahead of what the backend received; a relay that held the
 * upload (whole, or until the model field at its end) would stall it and fail the test.
 */
const SIZE = 50 * 1024 * 1024;
const MAX_LAG = 8 * 1024 * 1024;
const BOUNDARY = '----relay-test-boundary-7MA4YWxkTrZu0gW';
const FILE_HEAD = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`);

function fileTail(model: string): Buffer {
  return Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${model}\r\n--${BOUNDARY}--\r\n`);
}

let upstream: CountingUpstream;
let mapped: RunningRelay;
let plain: RunningRelay;

before(async () => {
  upstream = await startCountingUpstream();
  mapped = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-upload' }, model: { mapping: { 'whisper-alias': 'whisper-1' } } });
  plain = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-upload' } });
});
after(async () => {
  await mapped.close();
  await plain.close();
  await upstream.close();
});

interface Upload {
  readonly status: number | undefined;
  readonly body: string;
  /** SHA-256 of the seeded file bytes, of the whole body sent, and of the body a model rewrite must produce. */
  readonly payload: string;
  readonly whole: string;
  readonly rewritten: string;
  readonly length: number;
}

async function upload(relay: RunningRelay, seed: number): Promise<Upload> {
  upstream.reset();
  const rewritten = createHash('sha256').update(FILE_HEAD);
  const body = seededBody({
    seed,
    size: SIZE,
    head: FILE_HEAD,
    tail: fileTail('whisper-alias'),
    onPayload: (chunk) => rewritten.update(chunk),
    gate: (sent) => (sent - upstream.received() > MAX_LAG ? upstream.waitForBytes(sent - MAX_LAG, 10_000) : undefined),
  });
  const req = request(`${relay.url}/v1/audio/transcriptions`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': body.length, authorization: 'Bearer sk-client' },
  });
  const response = once(req, 'response') as Promise<[IncomingMessage]>;
  await pipeline(body.stream, req);
  const [res] = await response;
  let text = '';
  for await (const c of res) text += (c as Buffer).toString();
  const digests = await body.digests;
  rewritten.update(fileTail('whisper-1'));
  return { status: res.statusCode, body: text, ...digests, rewritten: rewritten.digest('hex'), length: body.length };
}

test('streams a 50 MB transcription upload with a mapped model: only the model changes, the file bytes arrive identical', { timeout: 60_000 }, async () => {
  const pending = upstream.nextRequest();
  const sent = await upload(mapped, 42);
  const seen = await pending;
  assert.equal(sent.status, 200);
  assert.equal(sent.body, '{"ok":true}');
  assert.equal(seen.url, '/v1/audio/transcriptions');
  assert.equal(seen.headers['content-type'], `multipart/form-data; boundary=${BOUNDARY}`);
  assert.equal(seen.headers.authorization, 'Bearer sk-backend-upload');
  // The backend's body is the client's with only the model value replaced: the file part's bytes
  // (and so their SHA-256) are the sender's.
  assert.equal(seen.bodyLength, sent.length - 'whisper-alias'.length + 'whisper-1'.length);
  assert.equal(seen.bodySha256, sent.rewritten);
  const log = await mapped.nextAccessLog();
  assert.equal(log.model, 'whisper-alias');
  assert.equal(log.model_sent, 'whisper-1');
});

test('passes a 50 MB upload through byte for byte, with its content-length, when no mapping is set', { timeout: 60_000 }, async () => {
  const pending = upstream.nextRequest();
  const sent = await upload(plain, 43);
  const seen = await pending;
  assert.equal(sent.status, 200);
  assert.equal(seen.bodyLength, sent.length);
  assert.equal(seen.bodySha256, sent.whole);
  assert.equal(seen.headers['content-length'], String(sent.length));
  assert.equal(seen.headers['transfer-encoding'], undefined);
  await plain.nextAccessLog();
});
