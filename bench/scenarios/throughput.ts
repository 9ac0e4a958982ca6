/**
 * (A) Non-streaming chat throughput: wrk with 64 keep-alive connections POSTs the ~300 byte chat
 * body; reports requests/s and the proxy's CPU time per request (utime+stime from /proc).
 */
import type { BenchContext } from '../context.js';
import { startMachineWatch } from '../machine-cpu.js';
import { readCpuSeconds } from '../proc-stats.js';
import type { RunningTarget } from '../targets.js';
import { runWrk, writeWrkScript } from '../wrk.js';
import { defineMetric, defineUsageMetrics, toUsageValues, type MetricValues, type ScenarioCase } from './scenario.js';

async function measureThroughput(ctx: BenchContext, target: RunningTarget): Promise<MetricValues> {
  const script = writeWrkScript(ctx.tempDir);
  const url = `${target.baseUrl}/v1/chat/completions`;
  await runWrk(ctx, url, script, ctx.options.warmupSeconds);
  await ctx.mock.resetStats();
  const pids = target.readProxyPids();
  const watched = [...pids, ctx.mock.readCpuPid()];
  const machine = startMachineWatch(watched, ctx.clockTicks);
  const cpuBefore = readCpuSeconds(pids, ctx.clockTicks);
  const result = await runWrk(ctx, url, script, ctx.options.throughputSeconds);
  const cpuSeconds = readCpuSeconds(pids, ctx.clockTicks) - cpuBefore;
  const usage = machine.stop(watched);
  const stats = await ctx.mock.readStats();
  const share = (count: number): number => (stats.requests === 0 ? 0 : (100 * count) / stats.requests);
  const cpuPerRequest = pids.length === 0 || result.requests === 0 ? Number.NaN : (cpuSeconds / result.requests) * 1e6;
  return {
    'a.rps': result.rps,
    'a.cpu_us_per_req': cpuPerRequest,
    'a.capacity_rps': 1e6 / cpuPerRequest,
    'a.errors': result.errors,
    'a.key_injected_pct': share(stats.injectedKey),
    'a.model_mapped_pct': share(stats.mappedModel),
    ...toUsageValues('a', usage),
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
