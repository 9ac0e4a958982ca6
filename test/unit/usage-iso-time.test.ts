import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTimeOf } from '../../src/usage/iso-time.js';

test('isoTimeOf spells every millisecond as toISOString does, across second, day and year edges', () => {
  const starts = [0, 999, 1_000, Date.UTC(2026, 10, 25, 23, 59, 59, 990), Date.UTC(1999, 11, 31, 23, 59, 59, 995), Date.now()];
  for (const start of starts) {
    for (let ms = start; ms < start + 1_500; ms += 7) assert.equal(isoTimeOf(ms), new Date(ms).toISOString(), `at ${ms}`);
  }
});

test('isoTimeOf rounds fractional milliseconds down, as Date does', () => {
  const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  assert.equal(isoTimeOf(ms + 0.9), new Date(ms).toISOString());
  assert.equal(isoTimeOf(ms + 0.9), '2026-01-02T03:04:05.006Z');
});

test('isoTimeOf going back in time (a request that started in the previous second) is spelt right', () => {
  const now = Date.UTC(2026, 5, 1, 12, 0, 1, 5);
  assert.equal(isoTimeOf(now), '2026-06-01T12:00:01.005Z');
  assert.equal(isoTimeOf(now - 10), '2026-06-01T12:00:00.995Z');
  assert.equal(isoTimeOf(now), '2026-06-01T12:00:01.005Z');
});

test('isoTimeOf outside years 0000–9999 falls back to toISOString', () => {
  const far = Date.UTC(10_000, 0, 1);
  assert.equal(isoTimeOf(far), new Date(far).toISOString());
  const before = Date.UTC(-1, 0, 1);
  assert.equal(isoTimeOf(before), new Date(before).toISOString());
});
