/**
 * (C) Streaming fan-out: N concurrent SSE streams (mock: 20 chunks, then [DONE]). Reports streams
 * complete and byte-identical, time to first chunk, the proxy's CPU per 1,000 chunks and its
 * peak RSS. Streams open at 1,000/s and the chunk spacing grows with N so all streams together
 * send at most ~6,000 chunks/s: the mock and the client share CPU 1 and must stay well below
 * saturation (the CPU 1 row shows it), whatever the proxy does.
 */
import type { BenchContext } from '../context.js';
import { startMachineWatch } from '../machine-cpu.js';
import { CLIENT_API_KEY, createChatRequestBody, createExpectedSseBody } from '../payloads.js';
import { readCpuSeconds, startRssSampler } from '../proc-stats.js';
import { runStreams, type StreamRunSpec } from '../sse-client.js';
import { pickPercentile, sortNumbers } from '../stats.js';
import type { RunningTarget } from '../targets.js';
import {
  MIB,
  defineMetric,
  defineUsageMetrics,
  toUsageValues,
  type MetricValues,
  type ScenarioCase,
} from './scenario.js';

const RAMP_BATCH = 5;
const RAMP_INTERVAL_MS = 5;
const CHUNK_RATE_PER_SECOND = 6_000;

/** Chunk spacing for `count` streams: 50 ms, or slower so all streams together stay at the rate. */
export function choosePaceMs(count: number): number {
  return Math.max(50, Math.ceil((count * 1_000) / CHUNK_RATE_PER_SECOND));
}

function createStreamSpec(target: RunningTarget, count: number, chunks: number, paceMs: number): StreamRunSpec {
  return {
    url: `${target.baseUrl}/v1/chat/completions`,
    count,
    body: createChatRequestBody(true),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_API_KEY}` },
    expected: createExpectedSseBody(chunks),
    batch: RAMP_BATCH,
    batchIntervalMs: RAMP_INTERVAL_MS,
    deadlineMs: 60_000 + (count / RAMP_BATCH) * RAMP_INTERVAL_MS + (chunks + 1) * paceMs,
  };
}

async function measureFanout(ctx: BenchContext, target: RunningTarget, count: number): Promise<MetricValues> {
  const { chunks } = ctx.mock;
  const paceMs = choosePaceMs(count);
  await ctx.mock.resetStats(10);
  await runStreams(createStreamSpec(target, Math.min(50, count), chunks, 10)); // warm-up
  await ctx.mock.resetStats(paceMs);
  const pids = target.readProxyPids();
  const sampler = startRssSampler(pids, 50);
  const watched = [...pids, ctx.mock.readCpuPid()];
  const machine = startMachineWatch(watched, ctx.clockTicks);
  const cpuBefore = readCpuSeconds(pids, ctx.clockTicks);
  const result = await runStreams(createStreamSpec(target, count, chunks, paceMs));
  const cpuSeconds = readCpuSeconds(pids, ctx.clockTicks) - cpuBefore;
  const usage = machine.stop(watched);
  const peakRss = sampler.stop();
  const stats = await ctx.mock.readStats();
  const intact = result.outcomes.filter((outcome) => outcome.intact).length;
  // Only streams that arrived intact count: a fast error page is not a fast first chunk.
  const firstChunks = sortNumbers(result.outcomes.filter((o) => o.intact).map((o) => o.firstChunkMs));
  const failures = result.outcomes.filter((o) => !o.intact).map((o) => o.error ?? '?');
  if (failures.length > 0) {
    ctx.notes.push(`C${count} ${target.name}: ${failures.length} streams failed, e.g. "${failures[0] ?? ''}"`);
  }
  const proxied = pids.length > 0;
  return {
    [`c${count}.intact`]: intact,
    [`c${count}.ttfc_p50_ms`]: pickPercentile(firstChunks, 50),
    [`c${count}.ttfc_p99_ms`]: pickPercentile(firstChunks, 99),
    [`c${count}.wall_s`]: result.wallMs / 1_000,
    [`c${count}.cpu_ms_per_1k_chunks`]: proxied ? (cpuSeconds * 1_000) / ((count * chunks) / 1_000) : Number.NaN,
    [`c${count}.peak_rss_mb`]: proxied ? peakRss / MIB : Number.NaN,
    [`c${count}.peak_concurrent`]: stats.peakStreams,
    ...toUsageValues(`c${count}`, usage),
  };
}

export function createFanoutCase(count: number, chunks: number): ScenarioCase {
  const p = `c${count}`;
  const label = `C ${count.toLocaleString('en-US')} streams:`;
  return {
    id: 'C',
    key: `C${count}`,
    title: `C: ${count.toLocaleString('en-US')} concurrent SSE streams, ${chunks} chunks every ${choosePaceMs(count)} ms`,
    targets: ['direct', 'nginx', 'relay'],
    metrics: [
      defineMetric(`${p}.intact`, `${label} complete & intact (of ${count})`, 0, { combine: 'min', ratios: false }),
      defineMetric(`${p}.ttfc_p50_ms`, `${label} first chunk p50 (ms)`, 2, { addedVsDirect: true }),
      defineMetric(`${p}.ttfc_p99_ms`, `${label} first chunk p99 (ms)`, 2, { addedVsDirect: true }),
      defineMetric(`${p}.wall_s`, `${label} wall time, all streams (s)`, 2),
      defineMetric(`${p}.cpu_ms_per_1k_chunks`, `${label} proxy CPU per 1,000 chunks (ms)`, 2),
      defineMetric(`${p}.peak_rss_mb`, `${label} proxy peak RSS (MiB)`, 1),
      defineMetric(`${p}.peak_concurrent`, `${label} peak concurrent at mock`, 0, { ratios: false }),
      ...defineUsageMetrics(p, label),
    ],
    run: (ctx, target) => measureFanout(ctx, target, count),
  };
}
