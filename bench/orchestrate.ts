/**
 * The measuring loop: for each case, for each repetition, each of its targets in turn (direct,
 * nginx, relay, relay variants), so slow drift of the machine hits all targets alike. Every run gets a fresh proxy.
 * A case with `runTogether` (F, G) starts all its targets for the repetition and measures them in
 * turns of a few seconds instead (scenarios/throughput.ts measureWrkInterleaved).
 */
import type { BenchContext } from './context.js';
import { createQuietGate, type QuietGate } from './quiet-gate.js';
import type { ScenarioCase } from './scenarios/scenario.js';
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

async function runOne(
  ctx: BenchContext,
  gate: QuietGate,
  scenarioCase: ScenarioCase,
  target: Target,
  rep: number,
): Promise<Sample | undefined> {
  const label = `[${scenarioCase.key} rep ${rep}/${ctx.options.reps}] ${target.name}`;
  const foreign = ctx.options.quietWaitSeconds > 0 ? await gate.waitForQuiet() : Number.NaN;
  const noisy = foreign >= QUIET_THRESHOLD_PCT ? ` (machine busy: other processes at ${Math.round(foreign)}% CPU)` : '';
  process.stderr.write(`${label} …${noisy}\n`);
  let running: RunningTarget | undefined;
  const startedAt = performance.now();
  try {
    if (scenarioCase.run === undefined) throw new Error(`${scenarioCase.key} measures its targets together`);
    running = await target.start(ctx);
    const values = await scenarioCase.run(ctx, running);
    const seconds = ((performance.now() - startedAt) / 1_000).toFixed(1);
    process.stderr.write(`${label}: ${summarizeValues(values)} (${seconds} s)\n`);
    return { caseKey: scenarioCase.key, target: target.name, rep, values };
  } catch (error) {
    const message = describeError(error);
    process.stderr.write(`${label} FAILED: ${message}\n`);
    ctx.notes.push(`${scenarioCase.key} rep ${rep} ${target.name} failed: ${message.split('\n')[0] ?? ''}`);
    return undefined;
  } finally {
    await running?.stop();
  }
}

/** A case whose targets run at the same time: all started, measured together, all stopped. */
async function runTogether(
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
    if (scenarioCase.runTogether === undefined) throw new Error(`${scenarioCase.key} measures one target at a time`);
    for (const target of targets) running.push(await target.start(ctx));
    const byTarget = await scenarioCase.runTogether(ctx, running);
    const seconds = ((performance.now() - startedAt) / 1_000).toFixed(1);
    const samples: Sample[] = [];
    for (const target of targets) {
      const values = byTarget.get(target.name);
      if (values === undefined) continue;
      process.stderr.write(`${label} ${target.name}: ${summarizeValues(values)}\n`);
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
      if (scenarioCase.runTogether !== undefined) {
        const together = runnable.filter((target) => scenarioCase.targets.includes(target.name));
        if (together.length > 0) samples.push(...(await runTogether(ctx, gate, scenarioCase, together, rep)));
        await sleep(200);
        continue;
      }
      for (const target of runnable) {
        if (!scenarioCase.targets.includes(target.name)) continue;
        const sample = await runOne(ctx, gate, scenarioCase, target, rep);
        if (sample !== undefined) samples.push(sample);
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
