/**
 * (A) Non-streaming chat throughput: wrk with 64 keep-alive connections POSTs the ~300 byte chat
 * body; reports requests/s and the proxy's CPU time per request (utime+stime from /proc).
 * F and G measure the same way, their targets in turns (measureWrkInterleaved).
 */
import type { BenchContext } from '../context.js';
import { startMachineWatch, type MachineUsage } from '../machine-cpu.js';
import { createEmptyStats, type MockStats } from '../mock-stats.js';
import { readCpuSeconds } from '../proc-stats.js';
import { isRelayTarget, type RunningTarget } from '../targets.js';
import { runWrk, writeWrkScript, type WrkResult } from '../wrk.js';
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

/**
 * Seconds of warm-up load before measuring a target. The relay runs on V8's JIT, which keeps
 * compiling and (when a first error or a new object shape turns up) deoptimising and compiling
 * again for its first 10-20 s under load: 4 s windows of a fresh relay cost 115-160, 89-94, 85,
 * then 78-88 µs per request. It is measured once that has settled, as it runs for days; direct
 * and nginx have nothing to warm.
 */
export function warmupSecondsFor(ctx: BenchContext, target: RunningTarget): number {
  return isRelayTarget(target.name) ? ctx.options.jitWarmupSeconds : ctx.options.warmupSeconds;
}

function chatUrl(target: RunningTarget): string {
  return `${target.baseUrl}/v1/chat/completions`;
}

/**
 * A's warm-up load (wrk POSTing the chat body) against `target`, for `seconds` (by default
 * warmupSecondsFor); B, C and G-SSE warm their targets with it too.
 */
export function warmUp(ctx: BenchContext, target: RunningTarget, seconds = warmupSecondsFor(ctx, target), script = writeWrkScript(ctx.tempDir)): Promise<WrkResult> {
  return runWrk(ctx, chatUrl(target), script, seconds);
}

interface MeasuredWindow {
  readonly result: WrkResult;
  readonly cpuSeconds: number;
  readonly hasProxy: boolean;
  readonly usage: MachineUsage;
  readonly stats: MockStats;
}

/**
 * One measured wrk run against `target`: the mock's counters reset before and read after, the
 * proxy's CPU time read around it. `ours` are processes of the bench that are not other processes'
 * load (the mock is added).
 */
async function measureWindow(ctx: BenchContext, target: RunningTarget, script: string, seconds: number, ours: readonly number[]): Promise<MeasuredWindow> {
  await ctx.mock.resetStats();
  const pids = target.readProxyPids();
  const watched = [...ours, ctx.mock.readCpuPid()];
  const machine = startMachineWatch(watched, ctx.clockTicks);
  const cpuBefore = readCpuSeconds(pids, ctx.clockTicks);
  const result = await runWrk(ctx, chatUrl(target), script, seconds);
  const cpuSeconds = readCpuSeconds(pids, ctx.clockTicks) - cpuBefore;
  const usage = machine.stop(watched);
  return { result, cpuSeconds, hasProxy: pids.length > 0, usage, stats: await ctx.mock.readStats() };
}

/** Warm-up, then the measured wrk run with the proxy's CPU time read before and after. */
export async function measureWrkThroughput(ctx: BenchContext, target: RunningTarget): Promise<WrkThroughput> {
  const script = writeWrkScript(ctx.tempDir);
  const warmup = await warmUp(ctx, target, warmupSecondsFor(ctx, target), script);
  const sum = createWindowSums(warmup.requests);
  addWindow(sum, await measureWindow(ctx, target, script, ctx.options.throughputSeconds, target.readProxyPids()));
  return toWrkThroughput(sum);
}

/** Windows per target in an interleaved measurement (measureWrkInterleaved). */
export const INTERLEAVED_WINDOWS = 4;

/**
 * A's measurement for several targets that run at the same time (F and G: the relay and its
 * variants, all started before measuring): each is warmed up, then the measured seconds are cut
 * into INTERLEAVED_WINDOWS windows per target, taken in turns (A B C, C B A, A B C, C B A), and
 * summed per target. This VM's speed drifts by 2× within minutes; back-to-back runs of 8 s, ~20 s
 * apart, gave routed ÷ plain from 0.75 to 1.27 in one full run. Windows seconds apart, in mirrored
 * order, see the same machine.
 */
export async function measureWrkInterleaved(ctx: BenchContext, targets: readonly RunningTarget[]): Promise<Map<string, WrkThroughput>> {
  const script = writeWrkScript(ctx.tempDir);
  const warmupRequests = await warmUpInTurns(ctx, targets, script);
  const sums = new Map(targets.map((target) => [target.name, createWindowSums(warmupRequests.get(target.name) ?? 0)]));
  const windowSeconds = Math.max(1, Math.round(ctx.options.throughputSeconds / INTERLEAVED_WINDOWS));
  for (let round = 0; round < INTERLEAVED_WINDOWS; round++) {
    const order = turnOrder(targets, round);
    for (const target of order) {
      // Every target's processes are ours: the idle ones must not count as other processes' CPU.
      const ours = targets.flatMap((t) => t.readProxyPids());
      addWindow(sums.get(target.name) as WindowSums, await measureWindow(ctx, target, script, windowSeconds, ours));
    }
  }
  return new Map([...sums].map(([name, sum]) => [name, toWrkThroughput(sum)]));
}

/** The targets in round `round`'s order: as listed in even rounds, reversed in odd ones (mirrored turns). */
function turnOrder(targets: readonly RunningTarget[], round: number): readonly RunningTarget[] {
  return round % 2 === 0 ? targets : [...targets].reverse();
}

/** Longest turn of an interleaved warm-up (measureWrkInterleaved), seconds. */
const WARMUP_TURN_SECONDS = 2;

/**
 * Each target's warm-up (warmupSecondsFor), given in turns of at most WARMUP_TURN_SECONDS in the
 * windows' mirrored order rather than one target after the other. Warmed one after the other, the
 * first target then sat idle while the others warmed, and measured faster for it: two relays with
 * the same config, measured in turns, gave the one warmed first 3-8% more throughput in each of 6
 * runs (the one warmed second was then the faster, in both runs with the order swapped), which
 * skewed F's and G's paired ratios against their second target. In turns, the same pair gave
 * 0.96-1.01. Returns the warm-up requests per target.
 */
async function warmUpInTurns(ctx: BenchContext, targets: readonly RunningTarget[], script: string): Promise<Map<string, number>> {
  const left = new Map(targets.map((target) => [target.name, warmupSecondsFor(ctx, target)]));
  const requests = new Map(targets.map((target) => [target.name, 0]));
  for (let round = 0; [...left.values()].some((seconds) => seconds > 0); round++) {
    const order = turnOrder(targets, round);
    for (const target of order) {
      const seconds = Math.min(WARMUP_TURN_SECONDS, left.get(target.name) ?? 0);
      if (seconds <= 0) continue;
      const result = await warmUp(ctx, target, seconds, script);
      left.set(target.name, (left.get(target.name) ?? 0) - Math.max(1, Math.round(seconds)));
      requests.set(target.name, (requests.get(target.name) ?? 0) + result.requests);
    }
  }
  return requests;
}

/** A case's runTogether from a function that turns one target's interleaved measurement into its values. */
export function measureInTurns(
  toValues: (ctx: BenchContext, target: RunningTarget, run: WrkThroughput) => MetricValues | Promise<MetricValues>,
): (ctx: BenchContext, targets: readonly RunningTarget[]) => Promise<Map<string, MetricValues>> {
  return async (ctx, targets) => {
    const runs = await measureWrkInterleaved(ctx, targets);
    const out = new Map<string, MetricValues>();
    // In target order: a relay with accounting is stopped by its values (the rows are counted).
    for (const target of targets) {
      const run = runs.get(target.name);
      if (run !== undefined) out.set(target.name, await toValues(ctx, target, run));
    }
    return out;
  };
}

interface WindowSums {
  readonly warmupRequests: number;
  requests: number;
  seconds: number;
  errors: number;
  cpuSeconds: number;
  hasProxy: boolean;
  cpu0: number;
  cpu1: number;
  foreign: number;
  readonly stats: MockStats;
}

function createWindowSums(warmupRequests: number): WindowSums {
  return { warmupRequests, requests: 0, seconds: 0, errors: 0, cpuSeconds: 0, hasProxy: false, cpu0: 0, cpu1: 0, foreign: 0, stats: createEmptyStats() };
}

function addWindow(sum: WindowSums, { result, cpuSeconds, hasProxy, usage, stats }: MeasuredWindow): void {
  sum.requests += result.requests;
  sum.seconds += result.seconds;
  sum.errors += result.errors;
  sum.cpuSeconds += cpuSeconds;
  sum.hasProxy = hasProxy;
  // Machine shares weighted by each window's length.
  sum.cpu0 += usage.cpu0BusyPct * result.seconds;
  sum.cpu1 += usage.cpu1BusyPct * result.seconds;
  sum.foreign += usage.foreignPct * result.seconds;
  sum.stats.requests += stats.requests;
  sum.stats.injectedKey += stats.injectedKey;
  sum.stats.mappedModel += stats.mappedModel;
  for (const [key, count] of Object.entries(stats.keys)) sum.stats.keys[key] = (sum.stats.keys[key] ?? 0) + count;
}

function toWrkThroughput(sum: WindowSums): WrkThroughput {
  const share = (total: number): number => (sum.seconds === 0 ? Number.NaN : total / sum.seconds);
  return {
    rps: share(sum.requests),
    cpuUsPerRequest: !sum.hasProxy || sum.requests === 0 ? Number.NaN : (sum.cpuSeconds / sum.requests) * 1e6,
    errors: sum.errors,
    requests: sum.requests,
    warmupRequests: sum.warmupRequests,
    stats: sum.stats,
    usage: { cpu0BusyPct: share(sum.cpu0), cpu1BusyPct: share(sum.cpu1), foreignPct: share(sum.foreign) },
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
