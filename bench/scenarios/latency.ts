/**
 * (B) Added latency at one connection: a sequential keep-alive client sends N chat requests one
 * after another; p50 and p99 of the round trip, later compared with direct. Each target first gets
 * A's warm-up (wrk at 64 connections; 10 s for relay targets), so a fresh relay's JIT has settled:
 * the optimising compiles and deoptimisations of its first seconds run on V8's background threads,
 * which share the proxy's one pinned core and pre-empt the request being timed.
 */
import { Agent } from 'node:http';
import type { BenchContext } from '../context.js';
import { sendRequest } from '../http-util.js';
import { startMachineWatch } from '../machine-cpu.js';
import { CLIENT_API_KEY, createChatRequestBody } from '../payloads.js';
import { pickPercentile, sortNumbers } from '../stats.js';
import type { RunningTarget } from '../targets.js';
import { defineMetric, defineUsageMetrics, toUsageValues, type MetricValues, type ScenarioCase } from './scenario.js';
import { warmUp } from './throughput.js';

const MAX_SECONDS = 120;

async function measureLatency(ctx: BenchContext, target: RunningTarget): Promise<MetricValues> {
  const url = `${target.baseUrl}/v1/chat/completions`;
  if (ctx.wrk.path !== undefined) await warmUp(ctx, target);
  const body = createChatRequestBody(false);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_API_KEY}` };
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const total = ctx.options.latencyRequests;
  const warmup = Math.min(300, Math.ceil(total / 5));
  const samples: number[] = [];
  let errors = 0;
  const deadline = performance.now() + MAX_SECONDS * 1_000;
  const watched = [...target.readProxyPids(), ctx.mock.readCpuPid()];
  let machine = startMachineWatch(watched, ctx.clockTicks);
  try {
    for (let i = 0; i < warmup + total && performance.now() < deadline; i += 1) {
      const startedAt = performance.now();
      const res = await sendRequest(url, { method: 'POST', body, headers, agent, timeoutMs: 10_000 });
      const elapsed = performance.now() - startedAt;
      if (res.status !== 200) errors += 1;
      if (i === warmup - 1) machine = startMachineWatch(watched, ctx.clockTicks);
      if (i >= warmup) samples.push(elapsed);
    }
  } finally {
    agent.destroy();
  }
  const usage = machine.stop(watched);
  const sorted = sortNumbers(samples);
  return {
    ...toUsageValues('b', usage),
    'b.p50_ms': pickPercentile(sorted, 50),
    'b.p99_ms': pickPercentile(sorted, 99),
    'b.errors': errors,
  };
}

export function createLatencyCase(): ScenarioCase {
  return {
    id: 'B',
    key: 'B',
    title: 'B: sequential requests at one connection',
    targets: ['direct', 'nginx', 'relay'],
    metrics: [
      defineMetric('b.p50_ms', 'B latency p50 (ms)', 3, { addedVsDirect: true }),
      defineMetric('b.p99_ms', 'B latency p99 (ms)', 3, { addedVsDirect: true }),
      defineMetric('b.errors', 'B errors (non-200; worst rep)', 0, { combine: 'max', ratios: false }),
      ...defineUsageMetrics('b', 'B'),
    ],
    run: measureLatency,
  };
}
