/**
 * (F) What routing among many backends costs: A's measurement exactly (same wrk script,
 * connections, durations, CPU per request), run against the plain relay (one `backend:`) and
 * `relay-routed` (10 backends, 50 model patterns, the request's model matched by the last pattern
 * of the last backend, retries on). Both run at once and are measured in turns of a few seconds
 * (measureWrkInterleaved). The F goal reads routed ÷ single taken per repetition and then the
 * median; the report's relay-routed/relay column is the ratio of the medians.
 */
import { findRelayVariant } from '../relay-variants.js';
import type { RunningTarget } from '../targets.js';
import {
  defineMetric,
  definePairedThroughput,
  defineUsageMetrics,
  toUsageValues,
  type MetricDef,
  type MetricValues,
  type PairedRatioDef,
  type ScenarioCase,
} from './scenario.js';
import { measureInTurns, shareOfRequests, type WrkThroughput } from './throughput.js';

/** F's paired ratios against the plain relay. */
const PAIRED = definePairedThroughput('f', 'F', 'relay-routed');

/** F's numbers from one wrk measurement (shared with G when both run: scenarios/variants.ts). */
export function toRoutingValues(target: RunningTarget, run: WrkThroughput): MetricValues {
  const upstreamKey = findRelayVariant(target.name)?.upstreamKey;
  const keyCount = upstreamKey === undefined ? 0 : (run.stats.keys[upstreamKey] ?? 0);
  return {
    'f.rps': run.rps,
    'f.cpu_us_per_req': run.cpuUsPerRequest,
    'f.capacity_rps': 1e6 / run.cpuUsPerRequest,
    'f.errors': run.errors,
    'f.upstream_key_pct': shareOfRequests(run.stats, keyCount),
    'f.model_mapped_pct': shareOfRequests(run.stats, run.stats.mappedModel),
    ...toUsageValues('f', run.usage),
  };
}

const measureRouting = measureInTurns((_ctx, target, run) => toRoutingValues(target, run));

export function defineRoutingMetrics(): MetricDef[] {
  return [
    defineMetric('f.rps', 'F throughput (req/s)', 0),
    defineMetric('f.cpu_us_per_req', 'F proxy CPU per request (µs)', 1),
    defineMetric('f.capacity_rps', 'F CPU-bound capacity = 1 s ÷ CPU per request (req/s)', 0),
    defineMetric('f.errors', 'F errors (non-2xx + socket; worst rep)', 0, { combine: 'max', ratios: false }),
    defineMetric('f.upstream_key_pct', "F upstream saw the target's key (relay: sk-bench-key, routed: b9's) (%)", 0, {
      combine: 'min',
      ratios: false,
    }),
    defineMetric('f.model_mapped_pct', 'F upstream saw mapped model (%)', 0, { combine: 'min', ratios: false }),
    ...defineUsageMetrics('f', 'F'),
    ...PAIRED.metrics,
  ];
}

export function defineRoutingPairs(): PairedRatioDef[] {
  return PAIRED.pairs;
}

export function createRoutingCase(connections: number): ScenarioCase {
  return {
    id: 'F',
    key: 'F',
    title:
      `F: routing cost, A's load (${connections} connections, wrk): ` +
      'relay vs relay-routed (10 backends, 50 patterns)',
    targets: ['relay', 'relay-routed'],
    metrics: defineRoutingMetrics(),
    pairedRatios: defineRoutingPairs(),
    runTogether: measureRouting,
  };
}
