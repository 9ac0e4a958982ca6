import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, toRateLimitHeaders, toRetryAfterHeaders, toRetryAfterSeconds } from '../../src/limits/headers.js';
import { toPeriodWindow } from '../../src/limits/period.js';

const DURATIONS: readonly [number, string][] = [
  [0, '0s'],
  [-5, '0s'],
  [0.2, '1ms'],
  [20, '20ms'],
  [999, '999ms'],
  [1000, '1s'],
  [1500, '1.5s'],
  [17_088, '17.088s'],
  [59_900, '59.9s'],
  [60_000, '1m0s'],
  [360_000, '6m0s'],
  [361_050, '6m1.05s'],
  [3_600_000, '1h0m0s'],
  [3_723_500, '1h2m3.5s'],
];

for (const [ms, text] of DURATIONS) {
  test(`formats ${ms} ms as ${text}, the way OpenAI's reset headers do`, () => {
    assert.equal(formatDuration(ms), text);
  });
}

test('writes the requests and tokens trios only for what is configured', () => {
  assert.deepEqual(toRateLimitHeaders({}), []);
  assert.deepEqual(toRateLimitHeaders({ requests: { limit: 60, remaining: 59, resetMs: 1000 } }), [
    'x-ratelimit-limit-requests', '60',
    'x-ratelimit-remaining-requests', '59',
    'x-ratelimit-reset-requests', '1s',
  ]);
  assert.deepEqual(toRateLimitHeaders({ tokens: { limit: 150000, remaining: 149984, resetMs: 6 } }), [
    'x-ratelimit-limit-tokens', '150000',
    'x-ratelimit-remaining-tokens', '149984',
    'x-ratelimit-reset-tokens', '6ms',
  ]);
});

test('retry-after is whole seconds and at least 1; retry-after-ms is exact', () => {
  assert.equal(toRetryAfterSeconds(0), 1);
  assert.equal(toRetryAfterSeconds(1), 1);
  assert.equal(toRetryAfterSeconds(1001), 2);
  assert.deepEqual(toRetryAfterHeaders(19_500), ['retry-after', '20', 'retry-after-ms', '19500']);
});

const PERIODS: readonly [string, number, 'day' | 'month', string, number][] = [
  ['mid-day', Date.UTC(2025, 0, 15, 12), 'day', '2025-01-15', Date.UTC(2025, 0, 16)],
  ['the last millisecond of a day', Date.UTC(2025, 0, 15, 23, 59, 59, 999), 'day', '2025-01-15', Date.UTC(2025, 0, 16)],
  ['midnight', Date.UTC(2025, 0, 16), 'day', '2025-01-16', Date.UTC(2025, 0, 17)],
  ['new year\'s eve', Date.UTC(2025, 11, 31, 23), 'day', '2025-12-31', Date.UTC(2026, 0, 1)],
  ['a leap day', Date.UTC(2024, 1, 29, 10), 'day', '2024-02-29', Date.UTC(2024, 2, 1)],
  ['February of a leap year', Date.UTC(2024, 1, 29, 23, 59), 'month', '2024-02', Date.UTC(2024, 2, 1)],
  ['December', Date.UTC(2025, 11, 31, 23, 59), 'month', '2025-12', Date.UTC(2026, 0, 1)],
  ['the first of a month', Date.UTC(2025, 6, 1), 'month', '2025-07', Date.UTC(2025, 7, 1)],
];

for (const [what, now, period, id, resetAt] of PERIODS) {
  test(`the ${period} budget period of ${what} (UTC) is ${id}`, () => {
    assert.deepEqual(toPeriodWindow(now, period), { id, resetAt });
  });
}
