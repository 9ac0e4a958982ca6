import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

const AUDIO = randomBytes(5 * 1024 * 1024);
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(async (req, res) => {
    const chunked = req.url.includes('chunked');
    res.writeHead(200, chunked ? { 'content-type': 'audio/mpeg' } : { 'content-type': 'audio/mpeg', 'content-length': String(AUDIO.length) });
    // Written in uneven pieces, respecting backpressure, like a real TTS stream.
    for (let off = 0; off < AUDIO.length; off += 300_001) {
      if (!res.write(AUDIO.subarray(off, off + 300_001))) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

test('5 MB of audio/mpeg from /v1/audio/speech arrive byte-identical through the SDK', { timeout: 15_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
  const speech = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello there' });
  assert.equal(speech.status, 200);
  assert.equal(speech.headers.get('content-type'), 'audio/mpeg');
  assert.equal(speech.headers.get('content-encoding'), null);
  const got = Buffer.from(await speech.arrayBuffer());
  assert.equal(got.length, AUDIO.length);
  assert.equal(sha256(got), sha256(AUDIO));
  const seen = upstream.requests.at(-1);
  assert.equal(seen?.url, '/v1/audio/speech');
  assert.equal(seen?.method, 'POST');
});

test('a chunked binary body without content-length arrives byte-identical', { timeout: 15_000 }, async () => {
  const res = await fetch(`${relay.baseURL}/audio/speech?chunked=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"tts-1","voice":"alloy","input":"x"}',
  });
  assert.equal(res.status, 200);
  const got = Buffer.from(await res.arrayBuffer());
  assert.equal(sha256(got), sha256(AUDIO));
});
