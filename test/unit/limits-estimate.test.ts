import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATA_URL_TOKENS, estimateTokens } from '../../src/limits/estimate.js';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

test('no body and non-JSON bodies estimate 0 tokens', () => {
  assert.equal(estimateTokens(null, true), 0);
  assert.equal(estimateTokens(Buffer.alloc(0), true), 0);
  assert.equal(estimateTokens(Buffer.alloc(4000, 0x61), false), 0);
});

test('the prompt is the body size divided by 4, rounded up', () => {
  const body = json({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello there, how are you?' }] });
  assert.equal(estimateTokens(body, true), Math.ceil(body.length / 4));
  assert.equal(estimateTokens(Buffer.from('{"a":1}'), true), 2);
});

for (const field of ['max_tokens', 'max_completion_tokens', 'max_output_tokens']) {
  test(`adds ${field} for the output`, () => {
    const body = json({ model: 'm', input: 'hi', [field]: 300 });
    assert.equal(estimateTokens(body, true), Math.ceil(body.length / 4) + 300);
  });
}

test('takes the largest output limit when several are written, spaced any way', () => {
  const body = Buffer.from('{"max_tokens" :\n 100, "max_completion_tokens":250,"model":"m"}');
  assert.equal(estimateTokens(body, true), Math.ceil(body.length / 4) + 250);
});

test('multiplies the output limit by n', () => {
  const body = json({ model: 'm', n: 3, max_tokens: 100 });
  assert.equal(estimateTokens(body, true), Math.ceil(body.length / 4) + 300);
});

test('ignores output limits that are not plain non-negative numbers', () => {
  for (const v of ['"100"', 'null', '-5', '{"type":"integer"}']) {
    const body = Buffer.from(`{"max_tokens":${v}}`);
    assert.equal(estimateTokens(body, true), Math.ceil(body.length / 4), v);
  }
});

test('counts an inline base64 image as DATA_URL_TOKENS, not by its size', () => {
  const image = `data:image/png;base64,${'A'.repeat(1_000_000)}`;
  const body = json({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }] }] });
  const rest = body.length - (image.length + 2);
  assert.equal(estimateTokens(body, true), Math.ceil((rest + DATA_URL_TOKENS * 4) / 4));
});

test('text that merely starts with "data:" is counted by its size', () => {
  const body = json({ model: 'm', input: 'data: this is a plain sentence, not a file' });
  assert.equal(estimateTokens(body, true), Math.ceil(body.length / 4));
});

test('finds the end of a data URL past escaped quotes before it', () => {
  const image = `data:image/jpeg;base64,${'B'.repeat(10_000)}`;
  const body = json({ note: 'say "hi" \\', url: image, max_tokens: 7 });
  const rest = body.length - (image.length + 2);
  assert.equal(estimateTokens(body, true), Math.ceil((rest + DATA_URL_TOKENS * 4) / 4) + 7);
});

test('estimates a 16 MB body without parsing it', () => {
  const body = json({ model: 'm', input: 'x'.repeat(16 * 1024 * 1024), max_tokens: 10 });
  const started = performance.now();
  const tokens = estimateTokens(body, true);
  const elapsed = performance.now() - started;
  assert.equal(tokens, Math.ceil(body.length / 4) + 10);
  assert.ok(elapsed < 100, `took ${elapsed.toFixed(1)} ms`);
});
