/** What a scenario case is: one measurement of one running target, returning named numbers. */
import type { ScenarioId } from '../cli.js';
import type { BenchContext } from '../context.js';
import type { MachineUsage } from '../machine-cpu.js';
import type { RunningTarget, TargetName } from '../targets.js';

export type MetricValues = Record<string, number>;

export interface MetricDef {
  readonly key: string;
  readonly label: string;
  readonly decimals: number;
  /** How repetitions combine: the median, the minimum ("all complete"), the maximum (errors). */
  readonly combine: 'median' | 'min' | 'max';
  /** Also report target − direct (added latency). */
  readonly addedVsDirect: boolean;
  /** Print relay/nginx and relay/direct ratios. */
  readonly ratios: boolean;
}

/**
 * A ratio (or, with `kind: 'difference'`, a difference) between two targets of a case taken per
 * repetition (the two run back to back, so they share the machine's state), then combined as the
 * median over repetitions: steadier than the ratio of the two medians on a noisy machine. Reported
 * in the numerator's column under `key`.
 */
export interface PairedRatioDef {
  readonly key: string;
  readonly label: string;
  /** numerator ÷ denominator (the default) or numerator − denominator. */
  readonly kind?: 'ratio' | 'difference';
  /** The metric both targets report, e.g. 'f.rps'. */
  readonly of: string;
  readonly numerator: TargetName;
  readonly denominator: TargetName;
}

export interface ScenarioCase {
  readonly id: ScenarioId;
  /** Unique key, e.g. "A" or "C5000". */
  readonly key: string;
  readonly title: string;
  readonly targets: readonly TargetName[];
  readonly metrics: readonly MetricDef[];
  /** Derived after the runs (paired.ts); their keys are listed in `metrics` too. */
  readonly pairedRatios?: readonly PairedRatioDef[];
  /** One target at a time: each repetition starts, measures and stops its targets in turn. */
  run?(ctx: BenchContext, target: RunningTarget): Promise<MetricValues>;
  /**
   * Or all the case's targets at once (F, G: the relay and its variants), started before and
   * stopped after; the values of each, by target name.
   */
  runTogether?(ctx: BenchContext, targets: readonly RunningTarget[]): Promise<Map<string, MetricValues>>;
}

export function defineMetric(
  key: string,
  label: string,
  decimals: number,
  extra: Partial<Pick<MetricDef, 'combine' | 'addedVsDirect' | 'ratios'>> = {},
): MetricDef {
  return { key, label, decimals, combine: 'median', addedVsDirect: false, ratios: true, ...extra };
}

/**
 * A relay variant against the plain relay under the same load (F, G): throughput and CPU per
 * request as ratios paired per repetition, the two metrics that show them and their definitions.
 */
export function definePairedThroughput(prefix: string, letter: string, variant: TargetName): { metrics: MetricDef[]; pairs: PairedRatioDef[] } {
  const throughput = `${letter} throughput ${variant} ÷ relay`;
  const cpu = `${letter} CPU per request ${variant} ÷ relay`;
  return {
    metrics: [
      defineMetric(`${prefix}.rps_ratio`, `${throughput}, paired per repetition (median)`, 3, { ratios: false }),
      defineMetric(`${prefix}.cpu_ratio`, `${cpu}, paired per repetition (median)`, 3, { ratios: false }),
    ],
    pairs: [
      { key: `${prefix}.rps_ratio`, label: throughput, of: `${prefix}.rps`, numerator: variant, denominator: 'relay' },
      { key: `${prefix}.cpu_ratio`, label: cpu, of: `${prefix}.cpu_us_per_req`, numerator: variant, denominator: 'relay' },
    ],
  };
}

export const MIB = 1024 * 1024;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The machine rows every case reports: CPU 0 / CPU 1 busy and other processes' CPU. */
export function toUsageValues(prefix: string, usage: MachineUsage): MetricValues {
  return {
    [`${prefix}.cpu0_pct`]: usage.cpu0BusyPct,
    [`${prefix}.cpu1_pct`]: usage.cpu1BusyPct,
    [`${prefix}.foreign_pct`]: usage.foreignPct,
  };
}

export function defineUsageMetrics(prefix: string, label: string): MetricDef[] {
  return [
    defineMetric(`${prefix}.cpu0_pct`, `${label} CPU 0 (proxy) busy (%)`, 0, { ratios: false }),
    defineMetric(`${prefix}.cpu1_pct`, `${label} CPU 1 (mock + load) busy (%)`, 0, { ratios: false }),
    defineMetric(`${prefix}.foreign_pct`, `${label} other processes' CPU (%, noise)`, 0, { ratios: false }),
  ];
}
