/**
 * The measuring loop: for each case, for each repetition, each of its targets in turn (direct,
 * nginx, relay, relay variants), so slow drift of the machine hits all targets alike. Every run gets a fresh proxy.
 * A case with `runTogether` (F, G) starts all its targets for the repetition and measures them in
 * turns of a few seconds instead (scenarios/throughput.ts measureWrkInterleaved).
 */
import type { BenchContext } from './context.js';
import { createQuietGate, type QuietGate } from './quiet-gate.js';
import type { MetricValues, ScenarioCase } from './scenarios/scenario.js';
import { sleep } from './scenarios/scenario.js';
import type { Sample } from './summary.js';
import type { RunningTarget, Target } from './targets.js';

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function summarizeValues(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key.split('.').pop() ?? key}=${Number.isFinite(value) ? +value.toFixed(3) : '—'}`)
    .join(' ');
}

const QUIET_THRESHOLD_PCT = 15;

type Measure = (ctx: BenchContext, targets: readonly RunningTarget[]) => Promise<Map<string, MetricValues>>;

/** How a case measures a group of running targets: all at once (runTogether), or its one target (run). */
function measureOf(scenarioCase: ScenarioCase): Measure {
  const { run, runTogether } = scenarioCase;
  if (runTogether !== undefined) return runTogether;
  if (run === undefined) throw new Error(`${scenarioCase.key} has neither run nor runTogether`);
  return async (ctx, targets) => {
    const out = new Map<string, MetricValues>();
    for (const target of targets) out.set(target.name, await run(ctx, target));
    return out;
  };
}

/**
 * One run: waits for a quiet machine, starts the targets (one, or a case's group that runs at the
 * same time), measures them, and stops them whatever happened. A failure becomes a note.
 */
async function runGroup(
  ctx: BenchContext,
  gate: QuietGate,
  scenarioCase: ScenarioCase,
  targets: readonly Target[],
  rep: number,
): Promise<Sample[]> {
  const names = targets.map((target) => target.name).join(' + ');
  const label = `[${scenarioCase.key} rep ${rep}/${ctx.options.reps}] ${names}`;
  const foreign = ctx.options.quietWaitSeconds > 0 ? await gate.waitForQuiet() : Number.NaN;
  const noisy = foreign >= QUIET_THRESHOLD_PCT ? ` (machine busy: other processes at ${Math.round(foreign)}% CPU)` : '';
  process.stderr.write(`${label} …${noisy}\n`);
  const running: RunningTarget[] = [];
  const startedAt = performance.now();
  try {
    const measure = measureOf(scenarioCase);
    for (const target of targets) running.push(await target.start(ctx));
    const byTarget = await measure(ctx, running);
    const seconds = ((performance.now() - startedAt) / 1_000).toFixed(1);
    const samples: Sample[] = [];
    for (const target of targets) {
      const values = byTarget.get(target.name);
      if (values === undefined) continue;
      const who = targets.length > 1 ? ` ${target.name}` : '';
      process.stderr.write(`${label}${who}: ${summarizeValues(values)}\n`);
      samples.push({ caseKey: scenarioCase.key, target: target.name, rep, values });
    }
    process.stderr.write(`${label}: ${seconds} s\n`);
    return samples;
  } catch (error) {
    const message = describeError(error);
    process.stderr.write(`${label} FAILED: ${message}\n`);
    ctx.notes.push(`${scenarioCase.key} rep ${rep} ${names} failed: ${message.split('\n')[0] ?? ''}`);
    return [];
  } finally {
    for (const target of running) await target.stop();
  }
}

export async function runCases(
  ctx: BenchContext,
  cases: readonly ScenarioCase[],
  targets: readonly Target[],
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const runnable = targets.filter((target) => target.skipNote === undefined);
  const gate = createQuietGate(ctx, {
    thresholdPct: QUIET_THRESHOLD_PCT,
    windowMs: 300,
    maxWaitPerRunMs: ctx.options.quietWaitSeconds * 1_000,
    totalBudgetMs: ctx.options.quietBudgetSeconds * 1_000,
  });
  for (const scenarioCase of cases) {
    for (let rep = 1; rep <= ctx.options.reps; rep += 1) {
      const ofCase = runnable.filter((target) => scenarioCase.targets.includes(target.name));
      // A case measured together is one group; any other case runs its targets one by one.
      const groups = scenarioCase.runTogether !== undefined ? [ofCase] : ofCase.map((target) => [target]);
      for (const group of groups) {
        if (group.length === 0) continue;
        samples.push(...(await runGroup(ctx, gate, scenarioCase, group, rep)));
        await sleep(200); // let sockets close and the mock settle between runs
      }
    }
  }
  const noisy = listNoisyRuns(samples);
  if (gate.stats.waitedMs > 1_000 || noisy.length > 0) {
    ctx.notes.push(
      `Shared machine: waited ${Math.round(gate.stats.waitedMs / 1_000)} s for other processes to calm down; ` +
        `${noisy.length} of ${samples.length} runs were measured while other processes used ≥ ${QUIET_THRESHOLD_PCT}% of a CPU` +
        (noisy.length > 0 ? ` (${noisy.slice(0, 12).join(', ')}${noisy.length > 12 ? ', …' : ''}).` : '.'),
    );
  }
  return samples;
}

/** Runs whose own measuring window saw other processes busy, as "A rep 1 nginx". */
function listNoisyRuns(samples: readonly Sample[]): string[] {
  return samples
    .filter((sample) =>
      Object.entries(sample.values).some(
        ([key, value]) => key.endsWith('.foreign_pct') && value >= QUIET_THRESHOLD_PCT,
      ),
    )
    .map((sample) => `${sample.caseKey} rep ${sample.rep} ${sample.target}`);
}
