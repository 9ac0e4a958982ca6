/**
 * The measuring loop: for each case, for each repetition, each target in turn (direct, nginx,
 * relay), so slow drift of the machine hits all targets alike. Every run gets a fresh proxy.
 */
import type { BenchContext } from './context.js';
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

async function runOne(ctx: BenchContext, scenarioCase: ScenarioCase, target: Target, rep: number): Promise<Sample | undefined> {
  const label = `[${scenarioCase.key} rep ${rep}/${ctx.options.reps}] ${target.name}`;
  process.stderr.write(`${label} …\n`);
  let running: RunningTarget | undefined;
  try {
    running = await target.start(ctx);
    const values = await scenarioCase.run(ctx, running);
    process.stderr.write(`${label}: ${summarizeValues(values)}\n`);
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

export async function runCases(
  ctx: BenchContext,
  cases: readonly ScenarioCase[],
  targets: readonly Target[],
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const runnable = targets.filter((target) => target.skipNote === undefined);
  for (const scenarioCase of cases) {
    for (let rep = 1; rep <= ctx.options.reps; rep += 1) {
      for (const target of runnable) {
        if (!scenarioCase.targets.includes(target.name)) continue;
        const sample = await runOne(ctx, scenarioCase, target, rep);
        if (sample !== undefined) samples.push(sample);
        await sleep(200); // let sockets close and the mock settle between runs
      }
    }
  }
  return samples;
}
