/**
 * (A) Non-streaming chat throughput: wrk with 64 keep-alive connections POSTs the ~300 byte chat
 * body; reports requests/s and the proxy's CPU time per request (utime+stime from /proc).
 * The measurement itself (measureWrkThroughput) is shared with F (scenarios/routing.ts).
 */
import type { BenchContext } from '../context.js';
import { startMachineWatch, type MachineUsage } from '../machine-cpu.js';
import type { MockStats } from '../mock-upstream.js';
import { readCpuSeconds } from '../proc-stats.js';
import type { RunningTarget } from '../targets.js';
import { runWrk, writeWrkScript } from '../wrk.js';
import { defineMetric, defineUsageMetrics, toUsageValues, type MetricValues, type ScenarioCase } from './scenario.js';

export interface WrkThroughput {
  readonly rps: number;
  /** Proxy CPU µs per request; NaN for direct (no proxy process). */
  readonly cpuUsPerRequest: number;
  readonly errors: number;
  /** Requests the measured run completed, and those of the warm-up before it (same process). */
  readonly requests: number;
  readonly warmupRequests: number;
  /** What the mock saw during the measured run (the warm-up excluded). */
  readonly stats: MockStats;
  readonly usage: MachineUsage;
}

/** Warm-up, then the measured wrk run with the proxy's CPU time read before and after. */
export async function measureWrkThroughput(ctx: BenchContext, target: RunningTarget): Promise<WrkThroughput> {
  const script = writeWrkScript(ctx.tempDir);
  const url = `${target.baseUrl}/v1/chat/completions`;
  const warmup = await runWrk(ctx, url, script, ctx.options.warmupSeconds);
  await ctx.mock.resetStats();
  const pids = target.readProxyPids();
  const watched = [...pids, ctx.mock.readCpuPid()];
  const machine = startMachineWatch(watched, ctx.clockTicks);
  const cpuBefore = readCpuSeconds(pids, ctx.clockTicks);
  const result = await runWrk(ctx, url, script, ctx.options.throughputSeconds);
  const cpuSeconds = readCpuSeconds(pids, ctx.clockTicks) - cpuBefore;
  const usage = machine.stop(watched);
  const stats = await ctx.mock.readStats();
  const cpuUsPerRequest =
    pids.length === 0 || result.requests === 0 ? Number.NaN : (cpuSeconds / result.requests) * 1e6;
  return {
    rps: result.rps,
    cpuUsPerRequest,
    errors: result.errors,
    requests: result.requests,
    warmupRequests: warmup.requests,
    stats,
    usage,
  };
}

/** Percentage of the requests the mock saw that `count` of them make. */
export function shareOfRequests(stats: MockStats, count: number): number {
  return stats.requests === 0 ? 0 : (100 * count) / stats.requests;
}

async function measureThroughput(ctx: BenchContext, target: RunningTarget): Promise<MetricValues> {
  const run = await measureWrkThroughput(ctx, target);
  return {
    'a.rps': run.rps,
    'a.cpu_us_per_req': run.cpuUsPerRequest,
    'a.capacity_rps': 1e6 / run.cpuUsPerRequest,
    'a.errors': run.errors,
    'a.key_injected_pct': shareOfRequests(run.stats, run.stats.injectedKey),
    'a.model_mapped_pct': shareOfRequests(run.stats, run.stats.mappedModel),
    ...toUsageValues('a', run.usage),
  };
}

export function createThroughputCase(connections: number): ScenarioCase {
  return {
    id: 'A',
    key: 'A',
    title: `A: non-streaming chat, ${connections} connections (wrk)`,
    targets: ['direct', 'nginx', 'relay'],
    metrics: [
      defineMetric('a.rps', 'A throughput (req/s)', 0),
      defineMetric('a.cpu_us_per_req', 'A proxy CPU per request (µs)', 1),
      defineMetric('a.capacity_rps', 'A CPU-bound capacity = 1 s ÷ CPU per request (req/s)', 0),
      defineMetric('a.errors', 'A errors (non-2xx + socket; worst rep)', 0, { combine: 'max', ratios: false }),
      defineMetric('a.key_injected_pct', 'A upstream saw injected key (%)', 0, { ratios: false }),
      defineMetric('a.model_mapped_pct', 'A upstream saw mapped model (%)', 0, { ratios: false }),
      ...defineUsageMetrics('a', 'A'),
    ],
    run: measureThroughput,
  };
}
