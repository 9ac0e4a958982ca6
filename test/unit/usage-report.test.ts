import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatUsageTable, parseSince, sumRows, type UsageRow } from '../../src/usage/report.js';

const NOW = new Date('2026-11-10T12:00:00.000Z');

const SINCE: readonly [string, string][] = [
  ['30m', '2026-11-10T11:30:00.000Z'],
  ['24h', '2026-11-09T12:00:00.000Z'],
  ['7d', '2026-11-03T12:00:00.000Z'],
  ['2w', '2026-10-27T12:00:00.000Z'],
  [' 7d ', '2026-11-03T12:00:00.000Z'],
  ['0d', '2026-11-10T12:00:00.000Z'],
  ['2026-11-01', '2026-11-01T00:00:00.000Z'],
  ['2026-11-01T08:30:00Z', '2026-11-01T08:30:00.000Z'],
  ['2026-11-01T08:30:00+02:00', '2026-11-01T06:30:00.000Z'],
];

for (const [text, expected] of SINCE) {
  test(`parseSince(${JSON.stringify(text)}) is ${expected}`, () => {
    assert.equal(parseSince(text, NOW).toISOString(), expected);
  });
}

for (const bad of ['', '7', 'd', '7days', '-7d', '1.5h', '7y', '2026-13-01', '2026-02-30', '2026-11-01Tnope', 'yesterday']) {
  test(`parseSince rejects ${JSON.stringify(bad)} with a message naming what it expects`, () => {
    assert.throws(() => parseSince(bad, NOW), (err: unknown) => err instanceof Error && err.message.includes('30m, 24h, 7d') && err.message.includes(JSON.stringify(bad)));
  });
}

test('parseSince measures from the present by default', () => {
  const before = Date.now();
  const since = parseSince('1h').getTime();
  assert.ok(since >= before - 3_600_000 && since <= Date.now() - 3_600_000);
});

const ROWS: UsageRow[] = [
  { group: 'team-a', requests: 1200, prompt_tokens: 1_500_000, completion_tokens: 300_000, cached_tokens: 1_000_000, reasoning_tokens: 0, total_tokens: 1_800_000, cost: 6.75, errors: 3 },
  { group: 'bob', requests: 7, prompt_tokens: 70, completion_tokens: 7, cached_tokens: 0, reasoning_tokens: 5, total_tokens: 77, cost: null, errors: 0 },
];

test('formatUsageTable aligns columns and ends with a total line', () => {
  assert.equal(
    formatUsageTable(ROWS, 'key'),
    [
      'key     requests   prompt  completion   cached  reasoning    total     cost  errors',
      '------  --------  -------  ----------  -------  ---------  -------  -------  ------',
      'team-a      1200  1500000      300000  1000000          0  1800000  $6.7500       3',
      'bob            7       70           7        0          5       77        -       0',
      '------  --------  -------  ----------  -------  ---------  -------  -------  ------',
      'total       1207  1500070      300007  1000000          5  1800077  $6.7500       3',
      '',
    ].join('\n'),
  );
});

test('formatUsageTable prints an empty report with zero totals', () => {
  const lines = formatUsageTable([], 'day').split('\n');
  assert.match(lines[0] ?? '', /^day\s+requests/);
  assert.match(lines[3] ?? '', /^total\s+0\s+0\s+0\s+0\s+0\s+0\s+-\s+0$/);
});

test('sumRows leaves the cost null only when no row has one', () => {
  assert.equal(sumRows([ROWS[1] as UsageRow]).cost, null);
  assert.equal(sumRows(ROWS).cost, 6.75);
});
