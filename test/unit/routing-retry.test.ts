import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, retryAfterMs } from '../../src/routing/retry.js';

test('backoffMs: the ceiling doubles per retry from base and is capped at max', () => {
  const top = () => 0.999999999;
  const cases: readonly [number, number, number, number][] = [
    // retry, base s, max s, ceiling ms
    [1, 0.1, 2, 100],
    [2, 0.1, 2, 200],
    [3, 0.1, 2, 400],
    [4, 0.1, 2, 800],
    [5, 0.1, 2, 1600],
    [6, 0.1, 2, 2000],
    [20, 0.1, 2, 2000],
    [0, 0.1, 2, 100],
    [3, 0, 2, 0],
    [3, 1, 0, 0],
  ];
  for (const [retry, base, max, ceiling] of cases) {
    assert.equal(backoffMs(retry, base, max, () => 0), 0, `retry ${retry}: full jitter reaches 0`);
    assert.equal(backoffMs(retry, base, max, top), ceiling, `retry ${retry}: ceiling`);
    assert.equal(backoffMs(retry, base, max, () => 0.5), Math.round(ceiling / 2), `retry ${retry}: half`);
  }
});

test('backoffMs: full jitter spreads over [0, ceiling]', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values = Array.from({ length: 2000 }, () => backoffMs(3, 0.1, 2, random));
  assert.ok(values.every((v) => v >= 0 && v <= 400 && Number.isInteger(v)));
  assert.ok(Math.min(...values) < 40, 'some near 0');
  assert.ok(Math.max(...values) > 360, 'some near the ceiling');
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(mean > 180 && mean < 220, `mean ${mean} near 200`);
});

const NOW = Date.parse('2025-01-01T00:00:00Z');

test('retryAfterMs: retry-after-ms, retry-after seconds, HTTP date, absent', () => {
  const cases: readonly [Record<string, string | string[] | undefined>, number | undefined][] = [
    [{ 'retry-after-ms': '1500' }, 1500],
    [{ 'retry-after-ms': '12.3' }, 13],
    [{ 'retry-after-ms': ' 20 ' }, 20],
    [{ 'retry-after-ms': '0' }, 0],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after-ms': ['300', '400'] }, 300],
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after': ['3'] }, 3000],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }, 7000],
    [{ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, 0],
    [{}, undefined],
    [{ 'retry-after': undefined }, undefined],
    [{ 'retry-after': 'soon' }, undefined],
    [{ 'retry-after': '' }, undefined],
    [{ 'retry-after': '5s' }, undefined],
    // Garbage retry-after-ms falls back to retry-after.
    [{ 'retry-after-ms': 'abc', 'retry-after': '1' }, 1000],
    [{ 'retry-after-ms': '-5' }, undefined],
    [{ 'retry-after-ms': 'abc' }, undefined],
  ];
  for (const [headers, expected] of cases) assert.equal(retryAfterMs(headers, NOW), expected, JSON.stringify(headers));
});

// Date.parse is lenient: text that is neither a number nor an HTTP date can still parse (as a date
// in 2001), giving a wait of 0 instead of "unreadable", so a 429'd key rests 0 ms rather than the cooldown.
test('retryAfterMs: garbage that Date.parse happens to accept is unreadable', () => {
  for (const value of ['-5', 'in 5', '1 2', ' 1.5x 2']) {
    assert.equal(retryAfterMs({ 'retry-after': value }, NOW), undefined, JSON.stringify(value));
  }
});
