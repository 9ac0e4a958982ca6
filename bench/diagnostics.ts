/**
 * Reads the summary for signs that the measurement, not the proxy, set a number: a saturated
 * load CPU, a mock without headroom, errors, a relay that did not inject the key or map the model.
 */
import type { Summary } from './summary.js';
import type { TargetName } from './targets.js';

const PROXIES: readonly TargetName[] = ['nginx', 'relay'];

function describeLoadBound(summary: Summary, target: TargetName): string | undefined {
  const load = summary.read('a.cpu1_pct', target);
  const proxy = summary.read('a.cpu0_pct', target);
  if (!(load >= 90) || !(proxy < 90)) return undefined;
  return (
    `A ${target}: CPU 1 (mock + wrk) was ${Math.round(load)}% busy while CPU 0 was ${Math.round(proxy)}%: ` +
    `its requests/s is bounded by the load side, so read the CPU-bound capacity row for ${target} too.`
  );
}

export function diagnoseSummary(summary: Summary, streams: readonly number[]): string[] {
  const notes: string[] = [];
  const direct = summary.read('a.rps', 'direct');
  for (const target of PROXIES) {
    const rps = summary.read('a.rps', target);
    if (Number.isFinite(direct) && Number.isFinite(rps)) {
      notes.push(`A mock headroom: direct ${Math.round(direct)} req/s = ${(direct / rps).toFixed(2)}× ${target}.`);
    }
    const loadBound = describeLoadBound(summary, target);
    if (loadBound !== undefined) notes.push(loadBound);
    if (summary.read('a.errors', target) > 0 || summary.read('b.errors', target) > 0) {
      notes.push(`${target} answered some requests with errors (see the errors rows): its numbers are suspect.`);
    }
    for (const count of streams) {
      const load = summary.read(`c${count}.cpu1_pct`, target);
      if (load >= 85)
        notes.push(
          `C ${count} ${target}: CPU 1 was ${Math.round(load)}% busy: the load side may have slowed the streams.`,
        );
    }
  }
  const injected = summary.read('a.key_injected_pct', 'relay');
  const mapped = summary.read('a.model_mapped_pct', 'relay');
  if (Number.isFinite(injected) && (injected < 100 || mapped < 100)) {
    notes.push(
      `relay: the mock saw the injected key on ${injected.toFixed(1)}% and the mapped model on ${mapped.toFixed(1)}% of requests (expected 100%).`,
    );
  }
  return notes;
}
