/**
 * The performance targets, each checked against the relay (nginx shown for reference).
 * A target only passes on a valid run: no errors, every stream intact, the upload whole.
 */
import { ACCOUNTING_STREAMS } from './scenarios/accounting.js';
import type { Summary } from './summary.js';
import type { TargetName } from './targets.js';

export interface Goal {
  readonly label: string;
  readonly threshold: string;
  readonly unit: string;
  read(summary: Summary, target: TargetName): number;
  isMet(value: number): boolean;
  /** False when the run that produced the value had errors (then the goal fails). */
  isValid(summary: Summary, target: TargetName): boolean;
}

export interface GoalResult {
  readonly label: string;
  readonly threshold: string;
  readonly relay: number;
  readonly nginx: number;
  readonly unit: string;
  /** undefined when the relay value was not measured. */
  readonly pass: boolean | undefined;
  readonly invalid: boolean;
}

/**
 * The memory bars are in MB (10^6 bytes); the bench reports MiB (2^20). A bar is converted,
 * so 200 MB is checked as 190.7 MiB: the strict reading.
 */
const MIB_PER_MB = 1e6 / 1_048_576;
function megabytes(mb: number): { threshold: string; limit: number } {
  const limit = Math.round(mb * MIB_PER_MB * 10) / 10;
  return { threshold: `≤ ${mb} MB (${limit} MiB)`, limit };
}
const C_PEAK_RSS = megabytes(200);
const D_RSS_GROWTH = megabytes(16);
const E_IDLE_RSS = megabytes(70);

const atMost =
  (limit: number) =>
  (value: number): boolean =>
    value <= limit;
const atLeast =
  (limit: number) =>
  (value: number): boolean =>
    value >= limit;
const hasNoErrors =
  (key: string) =>
  (s: Summary, t: TargetName): boolean =>
    s.read(key, t) === 0;
const hasAllIntact =
  (key: string, count: number) =>
  (s: Summary, t: TargetName): boolean =>
    s.read(key, t) >= count;

/** G: the accounting relay's usage table must hold at least this share of the requests made (%). */
const USAGE_ROWS_MIN_PCT = 99;

export function createGoals(bigStreams: number): Goal[] {
  const c = `c${bigStreams}`;
  const aValid = hasNoErrors('a.errors');
  const bValid = hasNoErrors('b.errors');
  const c200Valid = hasAllIntact('c200.intact', 200);
  const cBigValid = hasAllIntact(`${c}.intact`, bigStreams);
  const dValid = hasAllIntact('d.ok', 1);
  // F compares two relay targets: valid when neither had errors and the routed relay sent every
  // request to b9 with b9's key and the mapped model.
  const fValid = (s: Summary): boolean =>
    s.read('f.errors', 'relay') === 0 &&
    s.read('f.errors', 'relay-routed') === 0 &&
    s.read('f.upstream_key_pct', 'relay-routed') >= 100 &&
    s.read('f.model_mapped_pct', 'relay-routed') >= 100;
  // G compares relay-usage with relay: valid when neither had errors or broken streams, and the
  // accounting relay really accounted: its SQLite table holds (about) a row per request, and the
  // mock was asked for stream usage on every stream (so the stripping was on the measured path).
  const gValid = (s: Summary): boolean =>
    s.read('g.errors', 'relay') === 0 &&
    s.read('g.errors', 'relay-usage') === 0 &&
    s.read('g.usage_rows_pct', 'relay-usage') >= USAGE_ROWS_MIN_PCT;
  const gsValid = (s: Summary): boolean =>
    s.read('gs.intact', 'relay') >= ACCOUNTING_STREAMS &&
    s.read('gs.intact', 'relay-usage') >= ACCOUNTING_STREAMS &&
    s.read('gs.usage_leaks', 'relay-usage') === 0 &&
    s.read('gs.include_usage_pct', 'relay-usage') >= 100 &&
    s.read('gs.usage_rows_pct', 'relay-usage') >= USAGE_ROWS_MIN_PCT;
  const always = (): boolean => true;
  const n = bigStreams.toLocaleString('en-US');
  return [
    {
      label: 'A throughput vs nginx',
      threshold: '≥ 0.20×',
      unit: '×',
      read: (s, t) => s.read('a.rps', t) / s.read('a.rps', 'nginx'),
      isMet: atLeast(0.2),
      isValid: aValid,
    },
    {
      label: 'A proxy CPU per request',
      threshold: '≤ 90 µs',
      unit: 'µs',
      read: (s, t) => s.read('a.cpu_us_per_req', t),
      isMet: atMost(90),
      isValid: aValid,
    },
    {
      label: 'B added p50',
      threshold: '≤ 0.25 ms',
      unit: 'ms',
      read: (s, t) => s.readAdded('b.p50_ms', t),
      isMet: atMost(0.25),
      isValid: bValid,
    },
    {
      label: 'B added p99',
      threshold: '≤ 1 ms',
      unit: 'ms',
      read: (s, t) => s.readAdded('b.p99_ms', t),
      isMet: atMost(1),
      isValid: bValid,
    },
    {
      label: 'C 200 streams: added first-chunk p50',
      threshold: '≤ 2 ms',
      unit: 'ms',
      read: (s, t) => s.readAdded('c200.ttfc_p50_ms', t),
      isMet: atMost(2),
      isValid: c200Valid,
    },
    {
      label: `C ${n} streams: complete & intact`,
      threshold: `all ${n}`,
      unit: '',
      read: (s, t) => s.read(`${c}.intact`, t),
      isMet: atLeast(bigStreams),
      isValid: always,
    },
    {
      label: `C ${n} streams: CPU per 1,000 chunks`,
      threshold: '≤ 40 ms',
      unit: 'ms',
      read: (s, t) => s.read(`${c}.cpu_ms_per_1k_chunks`, t),
      isMet: atMost(40),
      isValid: cBigValid,
    },
    {
      label: `C ${n} streams: added first-chunk p50`,
      threshold: '≤ 100 ms',
      unit: 'ms',
      read: (s, t) => s.readAdded(`${c}.ttfc_p50_ms`, t),
      isMet: atMost(100),
      isValid: cBigValid,
    },
    {
      label: `C ${n} streams: peak RSS`,
      threshold: C_PEAK_RSS.threshold,
      unit: 'MiB',
      read: (s, t) => s.read(`${c}.peak_rss_mb`, t),
      isMet: atMost(C_PEAK_RSS.limit),
      isValid: cBigValid,
    },
    {
      label: 'D RSS growth during upload',
      threshold: D_RSS_GROWTH.threshold,
      unit: 'MiB',
      read: (s, t) => s.read('d.rss_growth_mb', t),
      isMet: atMost(D_RSS_GROWTH.limit),
      isValid: dValid,
    },
    {
      label: 'D upload wall time vs direct',
      threshold: '≤ 2×',
      unit: '×',
      read: (s, t) => s.read('d.wall_s', t) / s.read('d.wall_s', 'direct'),
      isMet: atMost(2),
      isValid: dValid,
    },
    {
      label: 'E idle RSS',
      threshold: E_IDLE_RSS.threshold,
      unit: 'MiB',
      read: (s, t) => s.read('e.idle_rss_mb', t),
      isMet: atMost(E_IDLE_RSS.limit),
      isValid: always,
    },
    {
      label: 'E listening after start',
      threshold: '≤ 300 ms',
      unit: 'ms',
      read: (s, t) => s.read('e.startup_ms', t),
      isMet: atMost(300),
      isValid: always,
    },
    {
      label: 'F throughput, relay-routed ÷ relay (10 backends, 50 patterns vs 1 backend)',
      threshold: '≥ 0.95×',
      unit: '×',
      // The median of the per-repetition ratios (paired.ts); a ratio of two relays: no nginx value.
      read: (s, t) => (t === 'relay' ? s.read('f.rps_ratio', 'relay-routed') : Number.NaN),
      isMet: atLeast(0.95),
      isValid: fValid,
    },
    {
      label: 'G throughput, relay-usage ÷ relay (accounting to SQLite on vs off)',
      threshold: '≥ 0.90×',
      unit: '×',
      read: (s, t) => (t === 'relay' ? s.read('g.rps_ratio', 'relay-usage') : Number.NaN),
      isMet: atLeast(0.9),
      isValid: gValid,
    },
    {
      label: `G ${ACCOUNTING_STREAMS} streams: first-chunk p50, relay-usage − relay`,
      threshold: '≤ 2 ms',
      unit: 'ms',
      read: (s, t) => (t === 'relay' ? s.read('gs.ttfc_p50_added_ms', 'relay-usage') : Number.NaN),
      isMet: atMost(2),
      isValid: gsValid,
    },
  ];
}

export function evaluateGoals(goals: readonly Goal[], summary: Summary): GoalResult[] {
  return goals.map((goal) => {
    const relay = goal.read(summary, 'relay');
    const measured = Number.isFinite(relay);
    const invalid = measured && !goal.isValid(summary, 'relay');
    return {
      label: goal.label,
      threshold: goal.threshold,
      unit: goal.unit,
      relay,
      nginx: goal.read(summary, 'nginx'),
      pass: measured ? !invalid && goal.isMet(relay) : undefined,
      invalid,
    };
  });
}
