/** The performance targets, each checked against the relay (nginx shown for reference). */
import type { Summary } from './summary.js';
import type { TargetName } from './targets.js';

export interface Goal {
  readonly label: string;
  readonly threshold: string;
  readonly unit: string;
  read(summary: Summary, target: TargetName): number;
  isMet(value: number): boolean;
}

export interface GoalResult {
  readonly label: string;
  readonly threshold: string;
  readonly relay: number;
  readonly nginx: number;
  readonly unit: string;
  /** undefined when the relay value was not measured. */
  readonly pass: boolean | undefined;
}

const atMost = (limit: number) => (value: number): boolean => value <= limit;
const atLeast = (limit: number) => (value: number): boolean => value >= limit;

export function createGoals(bigStreams: number): Goal[] {
  const c = `c${bigStreams}`;
  return [
    { label: 'A throughput vs nginx', threshold: '≥ 0.20×', unit: '×', read: (s, t) => s.read('a.rps', t) / s.read('a.rps', 'nginx'), isMet: atLeast(0.2) },
    { label: 'A proxy CPU per request', threshold: '≤ 90 µs', unit: 'µs', read: (s, t) => s.read('a.cpu_us_per_req', t), isMet: atMost(90) },
    { label: 'B added p50', threshold: '≤ 0.25 ms', unit: 'ms', read: (s, t) => s.readAdded('b.p50_ms', t), isMet: atMost(0.25) },
    { label: 'B added p99', threshold: '≤ 1 ms', unit: 'ms', read: (s, t) => s.readAdded('b.p99_ms', t), isMet: atMost(1) },
    { label: 'C 200 streams: added first-chunk p50', threshold: '≤ 2 ms', unit: 'ms', read: (s, t) => s.readAdded('c200.ttfc_p50_ms', t), isMet: atMost(2) },
    { label: `C ${bigStreams} streams: complete & intact`, threshold: `all ${bigStreams}`, unit: '', read: (s, t) => s.read(`${c}.intact`, t), isMet: atLeast(bigStreams) },
    { label: `C ${bigStreams} streams: CPU per 1,000 chunks`, threshold: '≤ 40 ms', unit: 'ms', read: (s, t) => s.read(`${c}.cpu_ms_per_1k_chunks`, t), isMet: atMost(40) },
    { label: `C ${bigStreams} streams: added first-chunk p50`, threshold: '≤ 100 ms', unit: 'ms', read: (s, t) => s.readAdded(`${c}.ttfc_p50_ms`, t), isMet: atMost(100) },
    { label: `C ${bigStreams} streams: peak RSS`, threshold: '≤ 200 MiB', unit: 'MiB', read: (s, t) => s.read(`${c}.peak_rss_mb`, t), isMet: atMost(200) },
    { label: 'D RSS growth during upload', threshold: '≤ 16 MiB', unit: 'MiB', read: (s, t) => s.read('d.rss_growth_mb', t), isMet: atMost(16) },
    { label: 'D upload wall time vs direct', threshold: '≤ 2×', unit: '×', read: (s, t) => s.read('d.wall_s', t) / s.read('d.wall_s', 'direct'), isMet: atMost(2) },
    { label: 'E idle RSS', threshold: '≤ 70 MiB', unit: 'MiB', read: (s, t) => s.read('e.idle_rss_mb', t), isMet: atMost(70) },
    { label: 'E listening after start', threshold: '≤ 300 ms', unit: 'ms', read: (s, t) => s.read('e.startup_ms', t), isMet: atMost(300) },
  ];
}

export function evaluateGoals(goals: readonly Goal[], summary: Summary): GoalResult[] {
  return goals.map((goal) => {
    const relay = goal.read(summary, 'relay');
    return {
      label: goal.label,
      threshold: goal.threshold,
      unit: goal.unit,
      relay,
      nginx: goal.read(summary, 'nginx'),
      pass: Number.isFinite(relay) ? goal.isMet(relay) : undefined,
    };
  });
}
