import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIsoSpelling, toColumnValues, USAGE_COLUMNS } from '../../src/usage/columns.js';
import { usageRecord } from '../helpers/usage-store-cases.js';

test('isIsoSpelling accepts toISOString() spellings only', () => {
  for (const ms of [0, 1, 999, Date.UTC(2026, 10, 25, 23, 59, 59, 999), 253402300799999]) assert.equal(isIsoSpelling(new Date(ms).toISOString()), true);
  for (const bad of ['', '2026-11-25T16:00:00Z', '2026-11-25T16:00:00.000+00:00', '2026-11-25 16:00:00.000Z', '2026-11-25T16:00:00.00aZ', '+012026-11-25T16:00:00.000Z', '2026-11-25T16:00:00.000z']) {
    assert.equal(isIsoSpelling(bad), false, bad);
  }
});

test('toColumnValues gives one value per column, times in one spelling and booleans kept', () => {
  const values = toColumnValues(usageRecord({ time: '2026-03-02T09:00:00+02:00', stream: true, aborted: false, prompt_tokens: Number.NaN, cost: null }));
  assert.equal(values.length, USAGE_COLUMNS.length);
  const at = (column: (typeof USAGE_COLUMNS)[number]): unknown => values[USAGE_COLUMNS.indexOf(column)];
  assert.equal(at('time'), '2026-03-02T07:00:00.000Z');
  assert.equal(at('prompt_tokens'), 0);
  assert.equal(at('cost'), null);
  assert.equal(at('stream'), true);
  assert.equal(at('aborted'), false);
});
