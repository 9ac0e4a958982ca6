/**
 * `npm run bench -- [options]`: the benchmark suite's entry point. Parses the CLI, prepares the
 * machine, runs the scenarios against direct / nginx / relay, writes bench/results/latest.{md,json}
 * and prints the markdown to stdout. Every child process is ended by PID on exit, error or SIGINT.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectCases } from './cases.js';
import { createChildRegistry, type ChildRegistry } from './children.js';
import { USAGE, parseCli, type BenchOptions } from './cli.js';
import { diagnoseSummary } from './diagnostics.js';
import { createGoals, evaluateGoals } from './goals.js';
import { runCases } from './orchestrate.js';
import { derivePairedSamples, describePairedRatios } from './paired.js';
import { resolveRelayCommand } from './relay-command.js';
import { writeReport } from './report.js';
import { streamJitWarmupSeconds } from './scenarios/fanout.js';
import { pinBenchProcess, readFdLimits, setUpBench } from './setup.js';
import { summarizeSamples } from './summary.js';
import { createTargets } from './targets.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = resolve(benchDir, '..', '..');

/** Re-runs this script under `ulimit -n <hard>` when the soft limit is lower (once). */
function reexecWithRaisedFdLimit(): boolean {
  const { soft, hard } = readFdLimits();
  const wanted = Math.min(hard, 65_535);
  if (soft >= wanted || process.env['BENCH_FD_RAISED'] === '1') return false;
  const result = spawnSync(
    'sh',
    ['-c', `ulimit -n ${wanted} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, BENCH_FD_RAISED: '1' } },
  );
  process.exitCode = result.status ?? 1;
  return true;
}

function installCleanup(registry: ChildRegistry, tempDir: string): void {
  const stopAndExit = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbench: ${signal}, stopping child processes …\n`);
    void registry.stopAll().finally(() => {
      rmSync(tempDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', stopAndExit);
  process.once('SIGTERM', stopAndExit);
  process.once('exit', () => registry.killAllSync());
}

async function runBench(
  options: BenchOptions,
  registry: ChildRegistry,
  pinned: boolean,
  tempDir: string,
): Promise<void> {
  const setup = await setUpBench(options, registry, { rootDir, benchDir, pinned, tempDir });
  const ctx = setup.context;
  const relay = resolveRelayCommand(rootDir, options.relayCommand);
  ctx.notes.push(...relay.notes);
  const targets = createTargets(ctx, relay);
  const cases = selectCases(ctx);
  const startedAt = Date.now();
  const measured = await runCases(ctx, cases, targets);
  const derived = derivePairedSamples(cases, measured);
  const samples = [...measured, ...derived];
  const metrics = cases.flatMap((c) => c.metrics);
  const summary = summarizeSamples(samples, metrics);
  const goals = evaluateGoals(createGoals(Math.max(...options.streams)), summary);
  const seconds = Math.round((Date.now() - startedAt) / 1_000);
  const input = {
    meta: {
      generatedAt: new Date().toISOString(),
      machine: setup.machine,
      tools: setup.tools,
      method:
        `${pinned ? 'proxy pinned to CPU 0, mock + load generator to CPU 1' : 'no pinning'}; ` +
        `${options.reps} repetition(s), targets interleaved per repetition, fresh proxy per run; ` +
        `A/B/F/G warm-up ${options.warmupSeconds} s (direct, nginx) and ${options.jitWarmupSeconds} s (relay targets, JIT), C/G-SSE ${streamJitWarmupSeconds(options)} s (relay targets); ` +
        `${options.quick ? 'quick mode; ' : ''}` +
        `measuring took ${seconds} s`,
      relayCommand: relay.template,
      skipped: targets.flatMap((t) => (t.skipNote === undefined ? [] : [t.skipNote])),
      notes: [...diagnoseSummary(summary, options.streams), ...describePairedRatios(cases, derived), ...ctx.notes],
    },
    cases,
    ranTargets: targets.filter((t) => t.skipNote === undefined).map((t) => t.name),
    samples,
    summary,
    goals,
  };
  const outDir = options.outDir ?? join(rootDir, 'bench', 'results');
  const markdown = writeReport(outDir, input);
  await registry.stopAll();
  if (ctx.notes.some((note) => note.includes('failed'))) {
    process.stderr.write(`bench: some runs failed; logs kept in ${ctx.tempDir}\n`);
  } else {
    rmSync(ctx.tempDir, { recursive: true, force: true });
  }
  process.stdout.write(markdown);
  process.stderr.write(`bench: wrote ${join(outDir, 'latest.md')} and latest.json\n`);
}

async function main(): Promise<void> {
  let options: BenchOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (reexecWithRaisedFdLimit()) return;
  const pinned = pinBenchProcess(options);
  const registry = createChildRegistry(pinned);
  const tempDir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  installCleanup(registry, tempDir);
  try {
    await runBench(options, registry, pinned, tempDir);
  } catch (error) {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
    await registry.stopAll();
  }
}

await main();
