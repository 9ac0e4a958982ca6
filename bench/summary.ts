/** Combines repetitions into one number per metric and target (median, or min for "all complete"). */
import type { MetricDef, MetricValues } from './scenarios/scenario.js';
import { computeMax, computeMedian, computeMin } from './stats.js';
import { TARGET_NAMES, type TargetName } from './targets.js';

export interface Sample {
  readonly caseKey: string;
  readonly target: TargetName;
  readonly rep: number;
  readonly values: MetricValues;
}

export interface Summary {
  /** Combined value, NaN when the metric was not measured for that target. */
  read(key: string, target: TargetName): number;
  /** target − direct, NaN when either is missing. */
  readAdded(key: string, target: TargetName): number;
  /** Plain object for latest.json: metric → target → value. */
  toJSON(): Record<string, Partial<Record<TargetName, number>>>;
}

export function summarizeSamples(samples: readonly Sample[], metrics: readonly MetricDef[]): Summary {
  const table: Record<string, Partial<Record<TargetName, number>>> = {};
  for (const metric of metrics) {
    const row: Partial<Record<TargetName, number>> = {};
    for (const target of TARGET_NAMES) {
      const values = samples
        .filter((sample) => sample.target === target && metric.key in sample.values)
        .map((sample) => sample.values[metric.key] ?? Number.NaN);
      if (values.length === 0) continue;
      const combine = { median: computeMedian, min: computeMin, max: computeMax }[metric.combine];
      const combined = combine(values);
      if (Number.isFinite(combined)) row[target] = combined;
    }
    table[metric.key] = row;
  }
  const read = (key: string, target: TargetName): number => table[key]?.[target] ?? Number.NaN;
  return {
    read,
    readAdded: (key, target) => read(key, target) - read(key, 'direct'),
    toJSON: () => table,
  };
}
