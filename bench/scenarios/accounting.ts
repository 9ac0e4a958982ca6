/**
 * (G) What accounting costs (issue 5): the plain relay against `relay-usage` (usage.database set:
 * every response's usage read, stream usage asked for with stream_options.include_usage and the
 * extra chunk stripped, records batched into SQLite), interleaved per repetition like F.
 *
 * - G: A's measurement (same wrk script, connections, warm-up, duration, CPU per request), the two
 *   relays running at once and measured in turns of a few seconds (measureWrkInterleaved); the
 *   goal reads relay-usage ÷ relay throughput paired per repetition.
 * - G-SSE: 200 concurrent streams measured like C's 200 case (same warm-up, ramp and pacing); the
 *   goal reads the first-chunk p50 of relay-usage minus relay's, paired per repetition. The mock
 *   answers a request carrying `"include_usage":true` the way OpenAI does, so the relay's stripping
 *   is on the measured path; a stream whose client sees any `"usage"` member counts as broken.
 *
 * After each relay-usage run the relay is stopped (it writes its last batch on SIGTERM) and the
 * rows of its SQLite table `usage` are counted against the requests made to that process.
 */
import type { BenchContext } from '../context.js';
import type { RunningTarget } from '../targets.js';
import { pickPercentile } from '../stats.js';
import { countUsageRows } from '../usage-db.js';
import { computeCpuPerThousandChunks, measureStreams } from './fanout.js';
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

/** G's paired ratios against the plain relay. */
const PAIRED = definePairedThroughput('g', 'G', 'relay-usage');

/** Streams in G-SSE: C's 200 case. */
export const ACCOUNTING_STREAMS = 200;

/** Rows ÷ requests (%), after stopping the relay; NaN for a target without a usage database. */
async function checkUsageRows(ctx: BenchContext, target: RunningTarget, requests: number, what: string): Promise<number> {
  const database = target.usageDatabase;
  if (database === undefined) return Number.NaN;
  await target.stop();
  const rows = countUsageRows(database);
  const pct = requests === 0 ? Number.NaN : (100 * rows) / requests;
  ctx.notes.push(
    `${target.name}: its SQLite \`usage\` table held ${rows.toLocaleString('en-US')} rows after ` +
      `${requests.toLocaleString('en-US')} ${what} (${pct.toFixed(1)}%).`,
  );
  return pct;
}

/**
 * G's numbers from one wrk measurement (shared with F when both run: scenarios/variants.ts). For a
 * target with a usage database this stops it and counts its rows, so call it last.
 */
export async function toAccountingValues(
  ctx: BenchContext,
  target: RunningTarget,
  run: WrkThroughput,
): Promise<MetricValues> {
  const requests = run.warmupRequests + run.requests;
  // wrk counts completed responses: requests in flight when it stops (≤ 64 per wrk run) may add rows.
  const rowsPct = await checkUsageRows(ctx, target, requests, 'G requests (warm-up + measured, as counted by wrk)');
  return {
    'g.rps': run.rps,
    'g.cpu_us_per_req': run.cpuUsPerRequest,
    'g.capacity_rps': 1e6 / run.cpuUsPerRequest,
    'g.errors': run.errors,
    'g.key_injected_pct': shareOfRequests(run.stats, run.stats.injectedKey),
    'g.usage_rows_pct': rowsPct,
    ...toUsageValues('g', run.usage),
  };
}

const measureAccountingThroughput = measureInTurns(toAccountingValues);

export function defineAccountingMetrics(): MetricDef[] {
  return [
    defineMetric('g.rps', 'G throughput (req/s)', 0),
    defineMetric('g.cpu_us_per_req', 'G proxy CPU per request (µs)', 1),
    defineMetric('g.capacity_rps', 'G CPU-bound capacity = 1 s ÷ CPU per request (req/s)', 0),
    defineMetric('g.errors', 'G errors (non-2xx + socket; worst rep)', 0, { combine: 'max', ratios: false }),
    defineMetric('g.key_injected_pct', 'G upstream saw injected key (%)', 0, { combine: 'min', ratios: false }),
    defineMetric('g.usage_rows_pct', 'G usage rows in SQLite ÷ requests made (%, lowest rep)', 1, {
      combine: 'min',
      ratios: false,
    }),
    ...defineUsageMetrics('g', 'G'),
    ...PAIRED.metrics,
  ];
}

export function defineAccountingPairs(): PairedRatioDef[] {
  return PAIRED.pairs;
}

export function createAccountingThroughputCase(connections: number): ScenarioCase {
  return {
    id: 'G',
    key: 'G',
    title: `G: accounting cost, A's load (${connections} connections, wrk): relay vs relay-usage (SQLite)`,
    targets: ['relay', 'relay-usage'],
    metrics: defineAccountingMetrics(),
    pairedRatios: defineAccountingPairs(),
    runTogether: measureAccountingThroughput,
  };
}

async function measureAccountingStreams(ctx: BenchContext, target: RunningTarget): Promise<MetricValues> {
  const run = await measureStreams(ctx, target, ACCOUNTING_STREAMS, 'G-SSE');
  // The relay's JIT warm-up (wrk POSTs) is recorded in the same table: counted, or the share read ~5,000%.
  const requests = run.jitWarmupRequests + run.warmupStreams + run.count;
  const rowsPct = await checkUsageRows(ctx, target, requests, 'requests (wrk warm-up, then G-SSE streams: warm-up + measured)');
  return {
    'gs.intact': run.intact,
    'gs.usage_leaks': run.usageLeaks,
    'gs.ttfc_p50_ms': pickPercentile(run.firstChunks, 50),
    'gs.ttfc_p99_ms': pickPercentile(run.firstChunks, 99),
    'gs.cpu_ms_per_1k_chunks': computeCpuPerThousandChunks(run, ctx.mock.chunks),
    'gs.include_usage_pct': run.stats.streamsStarted === 0 ? 0 : (100 * run.stats.usageStreams) / run.stats.streamsStarted,
    'gs.usage_rows_pct': rowsPct,
    ...toUsageValues('gs', run.usage),
  };
}

export function createAccountingStreamsCase(): ScenarioCase {
  const n = ACCOUNTING_STREAMS.toLocaleString('en-US');
  return {
    id: 'G',
    key: 'G-SSE',
    title: `G: accounting cost, ${n} concurrent SSE streams (as C ${n}): relay vs relay-usage (SQLite)`,
    targets: ['relay', 'relay-usage'],
    metrics: [
      defineMetric('gs.intact', `G SSE complete & intact (of ${n}; lowest rep)`, 0, { combine: 'min', ratios: false }),
      defineMetric('gs.usage_leaks', 'G SSE streams where the client saw a usage chunk it did not ask for (worst rep)', 0, {
        combine: 'max',
        ratios: false,
      }),
      defineMetric('gs.ttfc_p50_ms', 'G SSE first chunk p50 (ms)', 2),
      defineMetric('gs.ttfc_p99_ms', 'G SSE first chunk p99 (ms)', 2),
      defineMetric('gs.cpu_ms_per_1k_chunks', 'G SSE proxy CPU per 1,000 chunks (ms)', 2),
      defineMetric('gs.include_usage_pct', 'G SSE streams the mock was asked for usage (include_usage) (%)', 0, {
        combine: 'min',
        ratios: false,
      }),
      defineMetric('gs.usage_rows_pct', 'G SSE usage rows in SQLite ÷ requests made (wrk warm-up + streams) (%, lowest rep)', 1, {
        combine: 'min',
        ratios: false,
      }),
      ...defineUsageMetrics('gs', 'G SSE'),
      defineMetric('gs.ttfc_p50_added_ms', 'G SSE first chunk p50, relay-usage − relay, paired per repetition (median, ms)', 2, {
        ratios: false,
      }),
    ],
    pairedRatios: [
      {
        key: 'gs.ttfc_p50_added_ms',
        label: 'G SSE first chunk p50, relay-usage − relay',
        kind: 'difference',
        of: 'gs.ttfc_p50_ms',
        numerator: 'relay-usage',
        denominator: 'relay',
      },
    ],
    run: measureAccountingStreams,
  };
}
