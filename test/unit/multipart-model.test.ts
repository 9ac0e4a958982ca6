import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createModelResolver } from '../../src/proxy/model-policy.js';
import { MultipartModelRewriter, toBoundary } from '../../src/proxy/multipart-model.js';
import { createPrng } from '../helpers/seeded-bytes.js';

const resolve = createModelResolver({ override: '', mapping: { 'whisper-alias': 'whisper-1' } });

/** Runs `chunks` through a rewriter and collects what it emits. */
async function run(boundary: string, chunks: readonly Buffer[]): Promise<{ out: Buffer; rewriter: MultipartModelRewriter }> {
  const rewriter = new MultipartModelRewriter(boundary, resolve);
  const out: Buffer[] = [];
  rewriter.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise<void>((ok, fail) => {
    rewriter.once('end', ok);
    rewriter.once('error', fail);
  });
  for (const c of chunks) rewriter.write(c);
  rewriter.end();
  await ended;
  return { out: Buffer.concat(out), rewriter };
}

/** Binary file bytes with delimiter look-alikes that must not be mistaken for a delimiter. */
function fileBytes(boundary: string): Buffer {
  const noise = Buffer.alloc(300);
  createPrng(7)(noise);
  return Buffer.concat([
    Buffer.from('RIFF\0\0WAVE'),
    noise,
    Buffer.from(`\r\n--${boundary.slice(0, -1)}`), // a delimiter missing its last byte
    Buffer.from(`--${boundary}`), // a dash-boundary without the CRLF in front
    Buffer.from(`\r\n-${boundary}`),
    Buffer.from('\r\n\r\nname="model"\r\n\r\n'),
    noise.subarray(0, 100),
  ]);
}

interface Layout {
  readonly name: string;
  readonly boundary: string;
  readonly contentType: string;
  readonly modelFirst: boolean;
  readonly unquotedName: boolean;
}

/** The same body twice: as the client sends it (model value `asked`) and as the backend must get it. */
function buildBody(layout: Layout, modelValue: string): Buffer {
  const b = layout.boundary;
  const file = fileBytes(b);
  const modelPart = Buffer.from(
    `--${b}\r\nContent-Disposition: form-data; name=${layout.unquotedName ? 'model' : '"model"'}\r\n\r\n${modelValue}\r\n`,
  );
  const filePart = Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
    file,
    Buffer.from('\r\n'),
  ]);
  const decoys = Buffer.from(
    `--${b}\r\nContent-Disposition: form-data; name="model_extra"\r\n\r\nwhisper-alias\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="upload"; filename="model"\r\nContent-Type: text/plain\r\n\r\nwhisper-alias\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nmodel whisper-alias\r\n`,
  );
  return Buffer.concat([
    Buffer.from('This is the preamble; it is ignored.\r\n'),
    layout.modelFirst ? modelPart : filePart,
    decoys,
    layout.modelFirst ? filePart : modelPart,
    Buffer.from(`--${b}--\r\nThis is the epilogue: whisper-alias --${b}\r\n`),
  ]);
}

const LAYOUTS: readonly Layout[] = [
  { name: 'model before the file, unquoted boundary', boundary: '----formdata-undici-0123456789', contentType: 'multipart/form-data; boundary=----formdata-undici-0123456789', modelFirst: true, unquotedName: false },
  { name: 'model after the file, unquoted boundary', boundary: 'XyZ123', contentType: 'multipart/form-data;boundary=XyZ123', modelFirst: false, unquotedName: false },
  { name: 'model after the file, quoted boundary', boundary: "simple boundary:with'odd(chars)", contentType: 'multipart/form-data; charset=utf-8; boundary="simple boundary:with\'odd(chars)"', modelFirst: false, unquotedName: false },
  { name: 'model before the file, quoted boundary, bare name token', boundary: 'b=1', contentType: 'Multipart/Form-Data; BOUNDARY="b=1"', modelFirst: true, unquotedName: true },
];

for (const layout of LAYOUTS) {
  test(`reads the boundary from the content type (${layout.name})`, () => {
    assert.equal(toBoundary(layout.contentType), layout.boundary);
  });

  test(`rewrites only the model value at every two-chunk split (${layout.name})`, { timeout: 30_000 }, async () => {
    const input = buildBody(layout, 'whisper-alias');
    const expected = buildBody(layout, 'whisper-1');
    for (let at = 0; at <= input.length; at++) {
      const { out, rewriter } = await run(layout.boundary, [input.subarray(0, at), input.subarray(at)]);
      if (!out.equals(expected)) assert.fail(`split at byte ${at}: output differs at byte ${firstDifference(out, expected)}`);
      assert.equal(rewriter.asked, 'whisper-alias');
      assert.equal(rewriter.sent, 'whisper-1');
    }
  });

  test(`rewrites only the model value in 1-byte chunks (${layout.name})`, async () => {
    const input = buildBody(layout, 'whisper-alias');
    const chunks = Array.from({ length: input.length }, (_, i) => input.subarray(i, i + 1));
    const { out, rewriter } = await run(layout.boundary, chunks);
    assert.equal(out.toString('latin1'), buildBody(layout, 'whisper-1').toString('latin1'));
    assert.equal(rewriter.asked, 'whisper-alias');
    assert.equal(rewriter.sent, 'whisper-1');
  });

  test(`passes every byte unchanged for an unknown model and records it as asked and sent (${layout.name})`, async () => {
    const input = buildBody(layout, 'whisper-large-v3');
    const { out, rewriter } = await run(layout.boundary, [input]);
    assert.ok(out.equals(input));
    assert.equal(rewriter.asked, 'whisper-large-v3');
    assert.equal(rewriter.sent, 'whisper-large-v3');
  });
}

test('passes a body without a model part through unchanged and records no model', async () => {
  const b = 'abc';
  const input = Buffer.from(
    `--${b}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="model"\r\n\r\n{"model":"whisper-alias"}\r\n--${b}--\r\n`,
  );
  const { out, rewriter } = await run(b, [input.subarray(0, 20), input.subarray(20)]);
  assert.ok(out.equals(input));
  assert.equal(rewriter.asked, undefined);
  assert.equal(rewriter.sent, undefined);
});

test('keeps a multi-byte UTF-8 model name split across chunks intact', async () => {
  const r = new MultipartModelRewriter('B', createModelResolver({ override: '', mapping: { 'модель-é': 'целевая-ü' } }));
  const input = Buffer.from('--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nмодель-é\r\n--B--\r\n');
  const out: Buffer[] = [];
  r.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((ok) => r.once('end', ok));
  for (let i = 0; i < input.length; i++) r.write(input.subarray(i, i + 1));
  r.end();
  await ended;
  assert.equal(Buffer.concat(out).toString('utf8'), '--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nцелевая-ü\r\n--B--\r\n');
  assert.equal(r.asked, 'модель-é');
  assert.equal(r.sent, 'целевая-ü');
});

test('fails a body that ends inside the model part instead of forwarding a truncated form', async () => {
  await assert.rejects(run('B', [Buffer.from('--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-al')]));
});

test('streams the file bytes before the body has ended (no whole-body buffering)', async () => {
  const b = 'stream-boundary';
  const r = new MultipartModelRewriter(b, resolve);
  const head = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`);
  const file = Buffer.alloc(256 * 1024, 0x61);
  let emitted = 0;
  r.on('data', (c: Buffer) => (emitted += c.length));
  r.write(head);
  r.write(file);
  await new Promise((ok) => setImmediate(ok));
  // Only a delimiter's length may be held back.
  assert.ok(emitted >= head.length + file.length - (b.length + 4), `emitted ${emitted} of ${head.length + file.length}`);
  r.end(Buffer.from(`\r\n--${b}--\r\n`));
  await new Promise((ok) => r.once('end', ok));
});

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
