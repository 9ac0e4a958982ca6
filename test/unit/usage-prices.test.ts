import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePrices, priceTableSchema } from '../../src/usage/prices.js';
import type { UsageFigures } from '../../src/usage/record.js';

function usage(prompt: number, completion: number, cached = 0): UsageFigures {
  return { prompt_tokens: prompt, completion_tokens: completion, cached_tokens: cached, reasoning_tokens: 0, total_tokens: prompt + completion };
}

const cost = compilePrices({
  'gpt-4o*': { input: 5, output: 15 },
  'gpt-4o': { input: 2.5, output: 10, cached_input: 1.25 },
  'gpt-4o-mini*': { input: 0.15, output: 0.6 },
  'o*': { input: 1, output: 1 },
  '*': { input: 100, output: 100 },
});

const CASES: readonly [string, string, UsageFigures, number | null][] = [
  ['an exact name wins over a matching glob', 'gpt-4o', usage(1_000_000, 1_000_000), 12.5],
  ['cached tokens at cached_input', 'gpt-4o', usage(1_000_000, 0, 400_000), 0.6 * 2.5 + 0.4 * 1.25],
  ['cached tokens at input when no cached price', 'gpt-4o-mini-2024-07-18', usage(1_000_000, 0, 400_000), 0.15],
  ['the most specific glob wins', 'gpt-4o-mini-2024-07-18', usage(2_000_000, 1_000_000), 0.3 + 0.6],
  ['a shorter glob when the longer does not match', 'gpt-4o-2024-08-06', usage(1_000_000, 1_000_000), 20],
  ['a catch-all glob last', 'llama-3', usage(1_000, 0), 0.1],
  ['zero usage costs zero', 'gpt-4o', usage(0, 0), 0],
  ['cached tokens above the prompt are capped', 'gpt-4o', usage(100, 0, 500), (100 * 1.25) / 1e6],
];

for (const [name, model, u, expected] of CASES) {
  test(`prices: ${name}`, () => {
    const got = cost(model, u);
    assert.ok(got !== null && expected !== null && Math.abs(got - expected) < 1e-12, `${got} ≠ ${expected}`);
  });
}

test('prices: a model without a price costs null', () => {
  const only = compilePrices({ 'gpt-4o': { input: 1, output: 1 } });
  assert.equal(only('claude-3', usage(10, 10)), null);
  assert.equal(only('gpt-4o-mini', usage(10, 10)), null, 'an exact name is not a prefix');
  assert.equal(compilePrices({})('gpt-4o', usage(1, 1)), null);
});

test('prices: on equally specific globs the first listed wins', () => {
  const c = compilePrices({ 'a*': { input: 1, output: 0 }, '*b': { input: 2, output: 0 } });
  assert.equal(c('ab', usage(1_000_000, 0)), 1);
});

test('prices: glob characters other than * are literal', () => {
  const c = compilePrices({ 'gpt-4.1*': { input: 1, output: 0 } });
  assert.equal(c('gpt-4x1-mini', usage(1_000_000, 0)), null);
  assert.equal(c('gpt-4.1-mini', usage(1_000_000, 0)), 1);
});

test('prices: the schema accepts the documented shape', () => {
  const table = { 'gpt-4o': { input: 2.5, output: 10, cached_input: 1.25 }, 'deepseek-*': { input: 0.27, output: 1.1 } };
  assert.deepEqual(priceTableSchema.parse(table), table);
});

const BAD: readonly [string, unknown][] = [
  ['a negative price', { m: { input: -1, output: 1 } }],
  ['a missing output', { m: { input: 1 } }],
  ['a misspelled key', { m: { input: 1, output: 1, cached: 0.5 } }],
  ['a string price', { m: { input: '1', output: 1 } }],
  ['an infinite price', { m: { input: Infinity, output: 1 } }],
  ['an empty model name', { '': { input: 1, output: 1 } }],
  ['not an object', ['gpt-4o']],
];

for (const [name, table] of BAD) {
  test(`prices: the schema rejects ${name}`, () => {
    assert.equal(priceTableSchema.safeParse(table).success, false);
  });
}
