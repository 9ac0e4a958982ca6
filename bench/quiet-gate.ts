/**
 * On a shared machine another engineer's test run can take a whole CPU for a while. Before each
 * measured run the bench waits (bounded per run and in total) until processes that are not ours
 * use less than a threshold of CPU; the report says how long it waited and what it saw.
 */
import type { BenchContext } from './context.js';
import { startMachineWatch } from './machine-cpu.js';
import { sleep } from './scenarios/scenario.js';

export interface QuietGateOptions {
  /** Other processes' CPU, in percent of one CPU, below which the machine counts as quiet. */
  readonly thresholdPct: number;
  readonly windowMs: number;
  readonly maxWaitPerRunMs: number;
  readonly totalBudgetMs: number;
}

export interface QuietGate {
  /** Resolves with the foreign CPU % of the last window (quiet or not), NaN once the budget is spent. */
  waitForQuiet(): Promise<number>;
  readonly stats: { waitedMs: number };
}

export function createQuietGate(ctx: BenchContext, options: QuietGateOptions): QuietGate {
  const stats = { waitedMs: 0 };
  return {
    stats,
    async waitForQuiet(): Promise<number> {
      if (stats.waitedMs >= options.totalBudgetMs) return Number.NaN; // budget spent: no more waiting
      const startedAt = performance.now();
      const pids = [ctx.mock.readCpuPid()];
      let foreign = Number.NaN;
      for (let round = 0; round < 1_000; round += 1) {
        const watch = startMachineWatch(pids, ctx.clockTicks);
        await sleep(options.windowMs);
        foreign = watch.stop(pids).foreignPct;
        const waited = performance.now() - startedAt;
        if (foreign < options.thresholdPct) break;
        if (waited >= options.maxWaitPerRunMs || stats.waitedMs + waited >= options.totalBudgetMs) break;
      }
      stats.waitedMs += performance.now() - startedAt;
      return foreign;
    },
  };
}
