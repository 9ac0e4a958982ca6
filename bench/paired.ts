/**
 * Paired ratios (scenario.ts PairedRatioDef): for every repetition in which both targets of a pair
 * produced the metric, one derived sample numerator ÷ denominator (or numerator − denominator),
 * stored under the numerator.
 */
import type { PairedRatioDef, ScenarioCase } from './scenarios/scenario.js';
import type { Sample } from './summary.js';
import type { TargetName } from './targets.js';

function findValue(samples: readonly Sample[], caseKey: string, target: TargetName, rep: number, key: string): number {
  return samples.find((s) => s.caseKey === caseKey && s.target === target && s.rep === rep)?.values[key] ?? Number.NaN;
}

/** Pure: the derived samples, one per case, pair and repetition with both values finite. */
export function derivePairedSamples(cases: readonly ScenarioCase[], samples: readonly Sample[]): Sample[] {
  const derived: Sample[] = [];
  for (const scenarioCase of cases) {
    const ofCase = samples.filter((s) => s.caseKey === scenarioCase.key);
    const reps = [...new Set(ofCase.map((s) => s.rep))].sort((a, b) => a - b);
    for (const pair of scenarioCase.pairedRatios ?? []) {
      for (const rep of reps) {
        const top = findValue(samples, scenarioCase.key, pair.numerator, rep, pair.of);
        const bottom = findValue(samples, scenarioCase.key, pair.denominator, rep, pair.of);
        const ratio = combinePair(pair, top, bottom);
        if (Number.isFinite(ratio)) {
          derived.push({ caseKey: scenarioCase.key, target: pair.numerator, rep, values: { [pair.key]: ratio } });
        }
      }
    }
  }
  return derived;
}

function combinePair(pair: PairedRatioDef, top: number, bottom: number): number {
  return pair.kind === 'difference' ? top - bottom : top / bottom;
}

function formatPaired(pair: PairedRatioDef, value: number): string {
  return pair.kind === 'difference' ? `${value >= 0 ? '+' : ''}${value.toFixed(2)}` : `${value.toFixed(3)}×`;
}

/** One note per paired ratio that was measured: its value in every repetition. */
export function describePairedRatios(cases: readonly ScenarioCase[], derived: readonly Sample[]): string[] {
  return cases.flatMap((scenarioCase) =>
    (scenarioCase.pairedRatios ?? []).flatMap((pair) => {
      const values = derived
        .filter((s) => s.caseKey === scenarioCase.key && pair.key in s.values)
        .map((s) => formatPaired(pair, s.values[pair.key] ?? Number.NaN));
      if (values.length === 0) return [];
      return [
        `${scenarioCase.key} ${pair.numerator} ${pair.kind === 'difference' ? '−' : '÷'} ${pair.denominator} ` +
          `${pair.of} per repetition (each pair from the same repetition): ` +
          `${values.join(', ')}; the median is the "${pair.label}" row.`,
      ];
    }),
  );
}
