import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { boundaryOf, parseMultipart, partNamed } from '../helpers/multipart.js';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { createPrng } from '../helpers/seeded-bytes.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

let upstream: MockUpstream;
let relay: RunningRelay;
let client: OpenAI;

before(async () => {
  upstream = await startMockUpstream((req, res) => {
    const body = req.url.startsWith('/v1/images') ? { created: 1, data: [{ b64_json: 'aGk=' }] } : { text: 'hello world' };
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  relay = await startRelay({
    backend: { base_url: upstream.url, api_key: 'sk-backend' },
    model: { mapping: { 'whisper-alias': 'whisper-1', 'image-alias': 'gpt-image-1' } },
  });
  client = new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

/** Audio-like bytes with CRLFs and dashes in them, so a sloppy boundary scan would show. */
function sampleBytes(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  createPrng(seed)(bytes);
  bytes.write('\r\n--\r\n\r\n', 100, 'latin1');
  return bytes;
}

test('maps the model field of an SDK audio transcription and keeps the file bytes identical', async () => {
  const audio = sampleBytes(200_000, 11);
  const pending = upstream.nextRequest();
  const result = await client.audio.transcriptions.create({
    file: await toFile(audio, 'a.wav', { type: 'audio/wav' }),
    model: 'whisper-alias',
    language: 'en',
  });
  assert.equal(result.text, 'hello world');
  const seen = await pending;
  assert.equal(seen.url, '/v1/audio/transcriptions');
  assert.equal(seen.headers.authorization, 'Bearer sk-backend');
  const parts = parseMultipart(seen.body, boundaryOf(seen.headers['content-type']));
  assert.equal(partNamed(parts, 'model').data.toString(), 'whisper-1');
  assert.equal(partNamed(parts, 'language').data.toString(), 'en');
  const file = partNamed(parts, 'file');
  assert.equal(file.filename, 'a.wav');
  assert.ok(file.data.equals(audio), 'file bytes identical');
  assert.equal(parts.length, 3);
  const log = await relay.nextAccessLog();
  assert.equal(log.model, 'whisper-alias');
  assert.equal(log.model_sent, 'whisper-1');
});

test('maps the model field of an SDK translation request', async () => {
  const audio = sampleBytes(10_000, 12);
  const pending = upstream.nextRequest();
  await client.audio.translations.create({ file: await toFile(audio, 'b.mp3', { type: 'audio/mpeg' }), model: 'whisper-alias' });
  const seen = await pending;
  assert.equal(seen.url, '/v1/audio/translations');
  const parts = parseMultipart(seen.body, boundaryOf(seen.headers['content-type']));
  assert.equal(partNamed(parts, 'model').data.toString(), 'whisper-1');
  assert.ok(partNamed(parts, 'file').data.equals(audio));
  await relay.nextAccessLog();
});

test('maps the model field of an SDK image edit and keeps the image and prompt bytes identical', async () => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), sampleBytes(50_000, 13)]);
  const pending = upstream.nextRequest();
  const result = await client.images.edit({
    image: await toFile(png, 'a.png', { type: 'image/png' }),
    prompt: 'model: add a hat — ünïcode',
    model: 'image-alias',
  });
  assert.equal(result.data?.[0]?.b64_json, 'aGk=');
  const seen = await pending;
  assert.equal(seen.url, '/v1/images/edits');
  const parts = parseMultipart(seen.body, boundaryOf(seen.headers['content-type']));
  assert.equal(partNamed(parts, 'model').data.toString(), 'gpt-image-1');
  assert.equal(partNamed(parts, 'prompt').data.toString(), 'model: add a hat — ünïcode');
  const image = partNamed(parts, 'image');
  assert.equal(image.filename, 'a.png');
  assert.ok(image.data.equals(png), 'image bytes identical');
  await relay.nextAccessLog();
});

test('passes a transcription with an unmapped model through byte for byte', async () => {
  const audio = sampleBytes(5_000, 14);
  const pending = upstream.nextRequest();
  await client.audio.transcriptions.create({ file: await toFile(audio, 'c.wav'), model: 'whisper-large-v3' });
  const seen = await pending;
  const parts = parseMultipart(seen.body, boundaryOf(seen.headers['content-type']));
  assert.equal(partNamed(parts, 'model').data.toString(), 'whisper-large-v3');
  assert.ok(partNamed(parts, 'file').data.equals(audio));
  const log = await relay.nextAccessLog();
  assert.equal(log.model, 'whisper-large-v3');
  assert.equal(log.model_sent, 'whisper-large-v3');
});
