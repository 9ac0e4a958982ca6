/**
 * Reads the summary for signs that the measurement, not the proxy, set a number: a saturated
 * load CPU, a mock without headroom, errors, a relay that did not inject the key or map the model.
 */
import { findRelayVariant } from './relay-variants.js';
import type { Summary } from './summary.js';
import type { TargetName } from './targets.js';

const PROXIES: readonly TargetName[] = ['nginx', 'relay'];
/** The targets scenario F compares (routed ÷ single). */
const F_TARGETS = ['relay', 'relay-routed'] as const satisfies readonly TargetName[];
/** The targets scenario G compares (accounting on ÷ off). */
const G_TARGETS = ['relay', 'relay-usage'] as const satisfies readonly TargetName[];

function describeLoadBound(summary: Summary, target: TargetName, scenario: 'A' | 'F' | 'G' = 'A'): string | undefined {
  const prefix = scenario.toLowerCase();
  const load = summary.read(`${prefix}.cpu1_pct`, target);
  const proxy = summary.read(`${prefix}.cpu0_pct`, target);
  if (!(load >= 90) || !(proxy < 90)) return undefined;
  return (
    `${scenario} ${target}: CPU 1 (mock + wrk) was ${Math.round(load)}% busy while CPU 0 was ${Math.round(proxy)}%: ` +
    `its requests/s is bounded by the load side, so read the CPU-bound capacity row for ${target} too.`
  );
}

function diagnoseRouting(summary: Summary): string[] {
  const notes: string[] = [];
  for (const target of F_TARGETS) {
    const loadBound = describeLoadBound(summary, target, 'F');
    if (loadBound !== undefined) notes.push(loadBound);
    if (summary.read('f.errors', target) > 0) {
      notes.push(`F ${target} answered some requests with errors (see the errors row): the F ratio is suspect.`);
    }
    const key = summary.read('f.upstream_key_pct', target);
    const mapped = summary.read('f.model_mapped_pct', target);
    if (Number.isFinite(key) && (key < 100 || mapped < 100)) {
      notes.push(
        `F ${target}: the mock saw ${findRelayVariant(target)?.upstreamKey ?? 'the expected key'} ` +
          `on ${key.toFixed(1)}% and ` +
          `the mapped model on ${mapped.toFixed(1)}% of requests (expected 100%): routing went elsewhere.`,
      );
    }
  }
  return notes;
}

function diagnoseAccounting(summary: Summary): string[] {
  const notes: string[] = [];
  for (const target of G_TARGETS) {
    const loadBound = describeLoadBound(summary, target, 'G');
    if (loadBound !== undefined) notes.push(loadBound);
    if (summary.read('g.errors', target) > 0) {
      notes.push(`G ${target} answered some requests with errors (see the errors row): the G ratio is suspect.`);
    }
    const leaks = summary.read('gs.usage_leaks', target);
    if (leaks > 0) {
      notes.push(`G SSE ${target}: ${leaks} streams carried a "usage" member the client never asked for.`);
    }
  }
  const asked = summary.read('gs.include_usage_pct', 'relay-usage');
  if (Number.isFinite(asked) && asked < 100) {
    notes.push(
      `G SSE relay-usage asked the mock for stream usage on ${asked.toFixed(1)}% of streams (expected 100%): ` +
        'the stripping path was not (fully) measured.',
    );
  }
  for (const key of ['g.usage_rows_pct', 'gs.usage_rows_pct']) {
    const pct = summary.read(key, 'relay-usage');
    if (Number.isFinite(pct) && pct < 99) {
      notes.push(`G relay-usage: its usage table held only ${pct.toFixed(1)}% as many rows as requests made (${key}).`);
    }
  }
  return notes;
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
  notes.push(...diagnoseRouting(summary), ...diagnoseAccounting(summary));
  const injected = summary.read('a.key_injected_pct', 'relay');
  const mapped = summary.read('a.model_mapped_pct', 'relay');
  if (Number.isFinite(injected) && (injected < 100 || mapped < 100)) {
    notes.push(
      `relay: the mock saw the injected key on ${injected.toFixed(1)}% and the mapped model on ${mapped.toFixed(1)}% of requests (expected 100%).`,
    );
  }
  return notes;
}
