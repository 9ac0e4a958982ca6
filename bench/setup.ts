/**
 * Prepares the machine side of a run: descriptor limit, CPU pinning of the bench itself, wrk and
 * nginx (installed when missing), the scratch directory and the mock upstream.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import type { ChildRegistry } from './children.js';
import type { BenchOptions } from './cli.js';
import type { BenchContext } from './context.js';
import { startMockUpstream } from './mock-process.js';
import { readClockTicks } from './proc-stats.js';
import { ensureTool, type AptState } from './tools.js';

export const MOCK_CHUNKS = 20;
export const MOCK_INTERVAL_MS = 50;

export interface FdLimits {
  readonly soft: number;
  readonly hard: number;
}

export function readFdLimits(): FdLimits {
  const text = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  const toNumber = (value: string | undefined): number =>
    value === undefined ? 1_024 : value === 'unlimited' ? 1_048_576 : Number(value);
  return { soft: toNumber(match?.[1]), hard: toNumber(match?.[2]) };
}

/**
 * Pins every thread of this process (the load generator, and the default for its children) to
 * CPU 1; returns whether pinning is in effect. The proxy is later started on CPU 0.
 */
export function pinBenchProcess(options: BenchOptions): boolean {
  if (!options.pin || cpus().length < 2) return false;
  const result = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { encoding: 'utf8' });
  return result.status === 0;
}

/** A, F and G measure with wrk; B, C and G-SSE warm the relay up with it (`--only G` ran no throughput without it). */
function usesWrk(options: BenchOptions): boolean {
  return options.only.some((scenario) => scenario !== 'D' && scenario !== 'E');
}

export interface SetupResult {
  readonly context: BenchContext;
  readonly machine: string;
  readonly tools: string;
}

export async function setUpBench(
  options: BenchOptions,
  registry: ChildRegistry,
  paths: { rootDir: string; benchDir: string; pinned: boolean; tempDir: string },
): Promise<SetupResult> {
  const notes: string[] = [];
  const cpuCount = cpus().length;
  if (options.pin && !paths.pinned)
    notes.push('CPU pinning unavailable (needs taskset and 2 CPUs): results are noisier');
  const apt: AptState = { updated: false };
  const wrk = ensureTool(
    {
      binary: 'wrk',
      packages: ['wrk'],
      versionArgs: ['-v'],
      allowInstall: options.allowInstall && usesWrk(options),
    },
    apt,
  );
  const nginx = ensureTool(
    {
      binary: 'nginx',
      packages: ['nginx-light', 'nginx'],
      versionArgs: ['-v'],
      allowInstall: options.allowInstall && options.targets.includes('nginx'),
    },
    apt,
  );
  if (wrk.note !== undefined && usesWrk(options))
    notes.push(`wrk unavailable (${wrk.note}): scenarios A, F and G's throughput skipped, B and C not warmed up`);
  const { tempDir } = paths;
  const mock = await startMockUpstream({
    registry,
    benchDir: paths.benchDir,
    tempDir,
    cpu: 1,
    chunks: MOCK_CHUNKS,
    intervalMs: MOCK_INTERVAL_MS,
  });
  const fd = readFdLimits();
  const context: BenchContext = {
    options,
    registry,
    mock,
    rootDir: paths.rootDir,
    benchDir: paths.benchDir,
    tempDir,
    clockTicks: readClockTicks(),
    proxyCpu: 0,
    loadCpu: 1,
    fdLimit: fd.soft,
    wrk,
    nginx,
    notes,
  };
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return {
    context,
    machine: `${cpuCount} CPUs (${model}), Linux ${release()}, Node ${process.version}, open files ${fd.soft}`,
    tools: `${wrk.version}; ${nginx.version}`,
  };
}
