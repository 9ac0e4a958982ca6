import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, test } from 'node:test';
import { toFile } from 'openai';
import { accessLogFor } from '../helpers/access-log.js';
import { startMockUpstream, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.js';
import { boundaryOf, parseMultipart, partNamed } from '../helpers/multipart.js';
import { clientOf, closeAll, eventually } from '../helpers/routing.js';
import { createPrng } from '../helpers/seeded-bytes.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// A multipart upload larger than request.spool_above is kept in a temp file for retries: a 503 on
// the first backend replays it intact to the second, with the model renamed for each backend; the
// temp file is gone once the request ended.

const SIZE = 3 * 1024 * 1024;

let a: MockUpstream;
let b: MockUpstream;
let relay: RunningRelay;
/** relay-bartender-* temp dirs seen while the upload was being served. */
const spoolDirs = new Set<string>();
let dirsBefore: Set<string>;

function spoolDirsNow(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('relay-bartender-'));
}

function noteSpoolDirs(): void {
  for (const d of spoolDirsNow()) if (!dirsBefore.has(d)) spoolDirs.add(d);
}

before(async () => {
  a = await startMockUpstream((_req, res) => {
    noteSpoolDirs();
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"busy","type":"server_error"}}');
  });
  b = await startMockUpstream((_req, res) => {
    noteSpoolDirs();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"text":"from b"}');
  });
  relay = await startRelay({
    retry: { backoff: 0 },
    request: { spool_above: '1mb' },
    backends: [
      { name: 'a', base_url: a.url, priority: 0, models: ['whisper-1'], mapping: { 'whisper-1': 'a-whisper' } },
      { name: 'b', base_url: b.url, priority: 1, models: ['whisper-1'], mapping: { 'whisper-1': 'b-whisper' } },
    ],
  });
});
after(() => closeAll(relay, a, b));

function partsOf(req: RecordedRequest) {
  return parseMultipart(req.body, boundaryOf(req.headers['content-type']));
}

test('a 3 MB transcription upload failing with 503 is replayed intact to the next backend, model mapped per backend', { timeout: 10_000 }, async () => {
  const audio = Buffer.alloc(SIZE);
  createPrng(42)(audio);
  audio.write('\r\n--boundary-lookalike\r\n\r\n', 1000, 'latin1');
  const sha = createHash('sha256').update(audio).digest('hex');
  dirsBefore = new Set(spoolDirsNow());

  const { data, response } = await clientOf(relay)
    .audio.transcriptions.create(
      { file: await toFile(audio, 'speech.wav', { type: 'audio/wav' }), model: 'whisper-1', language: 'en' },
      { headers: { 'x-request-id': 'replay-multipart' } },
    )
    .withResponse();
  assert.equal(data.text, 'from b');
  assert.equal(response.headers.get('x-relay-backend'), 'b');
  assert.equal(response.headers.get('x-relay-attempts'), '2');

  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 1);
  const [first, second] = [a.requests[0] as RecordedRequest, b.requests[0] as RecordedRequest];
  for (const [seen, model] of [[first, 'a-whisper'], [second, 'b-whisper']] as const) {
    assert.equal(seen.url, '/v1/audio/transcriptions');
    const parts = partsOf(seen);
    assert.equal(partNamed(parts, 'model').data.toString(), model);
    assert.equal(partNamed(parts, 'language').data.toString(), 'en');
    const file = partNamed(parts, 'file');
    assert.equal(file.filename, 'speech.wav');
    assert.equal(file.data.length, SIZE);
    assert.equal(createHash('sha256').update(file.data).digest('hex'), sha, `the file reached ${model} intact`);
  }
  const log = await accessLogFor(relay, 'replay-multipart');
  assert.equal(log.backend, 'b');
  assert.equal(log.attempts, 2);
  assert.equal(log.model, 'whisper-1');

  assert.ok(spoolDirs.size > 0, 'the body above spool_above went to a relay-bartender-* temp dir');
  await eventually(() => spoolDirsNow().every((d) => !spoolDirs.has(d)), 2_000, 'the spool temp dir to be removed');
});

test('a spooled upload for a model no backend serves is refused 404 and its temp dir removed', { timeout: 10_000 }, async () => {
  const audio = Buffer.alloc(2 * 1024 * 1024, 7);
  dirsBefore = new Set(spoolDirsNow());
  spoolDirs.clear();
  const watcher = setInterval(noteSpoolDirs, 5);
  try {
    const err = await clientOf(relay)
      .audio.transcriptions.create({ file: await toFile(audio, 'x.wav'), model: 'whisper-unknown' })
      .then(
        () => assert.fail('expected a 404'),
        (e: unknown) => e as { status?: number; code?: string },
      );
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
  } finally {
    clearInterval(watcher);
  }
  assert.equal(a.requests.length + b.requests.length, 2, 'no backend received the refused upload');
  await eventually(() => spoolDirsNow().every((d) => !spoolDirs.has(d)), 2_000, 'the relay-bartender-* temp dirs seen during the upload to be removed');
});
