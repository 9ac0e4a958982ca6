/**
 * (C) Streaming fan-out: N concurrent SSE streams (mock: 20 chunks, then [DONE]). Reports streams
 * complete and byte-identical, time to first chunk, the proxy's CPU per 1,000 chunks and its
 * peak RSS. Streams open at 1,000/s and the chunk spacing grows with N so all streams together
 * send at most ~6,000 chunks/s: the mock and the client share CPU 1 and must stay well below
 * saturation (the CPU 1 row shows it), whatever the proxy does. Every measurement follows an
 * unmeasured warm-up round (measureStreams), so it reports steady state, not a cold JIT.
 */
import type { BenchContext } from '../context.js';
import { startMachineWatch, type MachineUsage } from '../machine-cpu.js';
import type { MockStats } from '../mock-stats.js';
import { CLIENT_API_KEY, createChatRequestBody, createExpectedSseBody } from '../payloads.js';
import { readCpuSeconds, startRssSampler } from '../proc-stats.js';
import { runStreams, type StreamRunSpec } from '../sse-client.js';
import { pickPercentile, sortNumbers } from '../stats.js';
import { isRelayTarget, type RunningTarget } from '../targets.js';
import {
  MIB,
  defineMetric,
  sleep,
  defineUsageMetrics,
  toUsageValues,
  type MetricValues,
  type ScenarioCase,
} from './scenario.js';
import { warmUp } from './throughput.js';

const RAMP_BATCH = 5;
const RAMP_INTERVAL_MS = 5;
const CHUNK_RATE_PER_SECOND = 6_000;
/**
 * The warm-up round before every measurement: at most this many streams, opened twice as fast as
 * the measured ones (10 every 5 ms), chunks this far apart. It only has to run the code paths, not
 * to be measurable, so it is short: ~0.5 s for 500 streams.
 */
const WARMUP_MAX_STREAMS = 500;
const WARMUP_RAMP_BATCH = 10;
const WARMUP_PACE_MS = 10;
/**
 * A relay target first gets half of A's JIT warm-up (wrk, non-streamed chat): one round of streams
 * leaves V8 still compiling the request path, and the streams measured next paid for it. C200's
 * first-chunk p50 through the relay read 7, 14 and 51 ms in one run without it, 2.0, 2.2 and 2.9
 * with 5 s of it, and 3.1, 3.1 and 5.0 with 10 s (direct: 1.1-2.2 ms throughout).
 */
export function streamJitWarmupSeconds(options: { readonly jitWarmupSeconds: number }): number {
  return Math.max(1, Math.round(options.jitWarmupSeconds / 2));
}

/** Pause after the warm-up: its sockets close, and the proxy's GC and JIT work finish. */
const SETTLE_MS = 1_000;

/** Chunk spacing for `count` streams: 50 ms, or slower so all streams together stay at the rate. */
export function choosePaceMs(count: number): number {
  return Math.max(50, Math.ceil((count * 1_000) / CHUNK_RATE_PER_SECOND));
}

/** Streams in the unmeasured warm-up round before `count` measured streams. */
export function countWarmupStreams(count: number): number {
  return Math.min(count, WARMUP_MAX_STREAMS);
}

function createStreamSpec(
  target: RunningTarget,
  count: number,
  chunks: number,
  paceMs: number,
  batch = RAMP_BATCH,
): StreamRunSpec {
  return {
    url: `${target.baseUrl}/v1/chat/completions`,
    count,
    body: createChatRequestBody(true),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_API_KEY}` },
    expected: createExpectedSseBody(chunks),
    batch,
    batchIntervalMs: RAMP_INTERVAL_MS,
    deadlineMs: 60_000 + (count / batch) * RAMP_INTERVAL_MS + (chunks + 1) * paceMs,
  };
}

/** What one measured round of streams gave, shared by C and G's stream half. */
export interface StreamMeasurement {
  readonly count: number;
  readonly warmupStreams: number;
  /** Requests wrk completed in the relay's JIT warm-up before the streams (0 for direct and nginx). */
  readonly jitWarmupRequests: number;
  readonly intact: number;
  /** Streams whose body carried a `"usage"` member the client never asked for. */
  readonly usageLeaks: number;
  /** First body byte of the intact streams, sorted (ms). */
  readonly firstChunks: readonly number[];
  readonly wallMs: number;
  /** Proxy CPU seconds during the measured round; NaN for direct. */
  readonly cpuSeconds: number;
  /** Proxy peak RSS in bytes; NaN for direct. */
  readonly peakRss: number;
  /** What the mock saw during the measured round. */
  readonly stats: MockStats;
  readonly usage: MachineUsage;
}

/**
 * The steady-state measurement: first an unmeasured round of min(count, 500) streams with 10 ms
 * chunk spacing, so a fresh relay has compiled its streaming path (and every proxy has filled its
 * upstream keep-alive pool) before the clock starts, then a 1 s pause, then `count` measured streams.
 */
export async function measureStreams(
  ctx: BenchContext,
  target: RunningTarget,
  count: number,
  label: string,
): Promise<StreamMeasurement> {
  const { chunks } = ctx.mock;
  const paceMs = choosePaceMs(count);
  const warmupStreams = countWarmupStreams(count);
  let jitWarmupRequests = 0;
  if (isRelayTarget(target.name) && ctx.wrk.path !== undefined) {
    jitWarmupRequests = (await warmUp(ctx, target, streamJitWarmupSeconds(ctx.options))).requests;
  }
  await ctx.mock.resetStats(WARMUP_PACE_MS);
  const warmup = await runStreams(createStreamSpec(target, warmupStreams, chunks, WARMUP_PACE_MS, WARMUP_RAMP_BATCH));
  const warmupFailed = warmup.outcomes.filter((o) => !o.intact).length;
  if (warmupFailed > 0) ctx.notes.push(`${label} ${target.name}: ${warmupFailed} of ${warmupStreams} warm-up streams failed`);
  await sleep(SETTLE_MS);
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
  // Only streams that arrived intact count: a fast error page is not a fast first chunk.
  const firstChunks = sortNumbers(result.outcomes.filter((o) => o.intact).map((o) => o.firstChunkMs));
  const failures = result.outcomes.filter((o) => !o.intact).map((o) => o.error ?? '?');
  if (failures.length > 0) {
    ctx.notes.push(`${label} ${target.name}: ${failures.length} streams failed, e.g. "${failures[0] ?? ''}"`);
  }
  const proxied = pids.length > 0;
  return {
    count,
    warmupStreams,
    jitWarmupRequests,
    intact: firstChunks.length,
    usageLeaks: result.outcomes.filter((o) => o.sawUsage).length,
    firstChunks,
    wallMs: result.wallMs,
    cpuSeconds: proxied ? cpuSeconds : Number.NaN,
    peakRss: proxied ? peakRss : Number.NaN,
    stats,
    usage,
  };
}

/** Proxy CPU ms per 1,000 chunks delivered in a measured round. */
export function computeCpuPerThousandChunks(run: StreamMeasurement, chunks: number): number {
  return (run.cpuSeconds * 1_000) / ((run.count * chunks) / 1_000);
}

async function measureFanout(ctx: BenchContext, target: RunningTarget, count: number): Promise<MetricValues> {
  const run = await measureStreams(ctx, target, count, `C${count}`);
  return {
    [`c${count}.intact`]: run.intact,
    [`c${count}.ttfc_p50_ms`]: pickPercentile(run.firstChunks, 50),
    [`c${count}.ttfc_p99_ms`]: pickPercentile(run.firstChunks, 99),
    [`c${count}.wall_s`]: run.wallMs / 1_000,
    [`c${count}.cpu_ms_per_1k_chunks`]: computeCpuPerThousandChunks(run, ctx.mock.chunks),
    [`c${count}.peak_rss_mb`]: run.peakRss / MIB,
    [`c${count}.peak_concurrent`]: run.stats.peakStreams,
    ...toUsageValues(`c${count}`, run.usage),
  };
}

export function createFanoutCase(count: number, chunks: number): ScenarioCase {
  const p = `c${count}`;
  const label = `C ${count.toLocaleString('en-US')} streams:`;
  return {
    id: 'C',
    key: `C${count}`,
    title:
      `C: ${count.toLocaleString('en-US')} concurrent SSE streams, ${chunks} chunks every ${choosePaceMs(count)} ms ` +
      `(after ${countWarmupStreams(count).toLocaleString('en-US')} warm-up streams)`,
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
