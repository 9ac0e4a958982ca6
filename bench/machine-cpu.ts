/**
 * Watches both CPUs during a measurement: how busy CPU 0 (proxy) and CPU 1 (mock + load
 * generator) were, and how much CPU processes that are not ours took (another engineer's test
 * run on the shared machine shows up here, and the report flags it).
 */
import { readCpuSeconds, readCpuTimes, readSelfTicksWithChildren, type CpuTimes } from './proc-stats.js';

export interface MachineUsage {
  readonly cpu0BusyPct: number;
  readonly cpu1BusyPct: number;
  /** CPU used by processes outside the bench, in percent of one CPU. */
  readonly foreignPct: number;
}

export interface MachineWatch {
  /** `pids`: our live processes (mock, proxy tree); the bench itself and reaped children are added. */
  stop(pids: readonly number[]): MachineUsage;
}

function toBusyPercent(before: CpuTimes | undefined, after: CpuTimes | undefined): number {
  if (before === undefined || after === undefined || after.total === before.total) return Number.NaN;
  return (100 * (after.busy - before.busy)) / (after.total - before.total);
}

export function startMachineWatch(pids: readonly number[], clockTicks: number): MachineWatch {
  const startedAt = performance.now();
  const cpusBefore = readCpuTimes();
  const selfBefore = readSelfTicksWithChildren();
  const oursBefore = readCpuSeconds(pids, clockTicks);
  return {
    stop(livePids): MachineUsage {
      const cpusAfter = readCpuTimes();
      const wallSeconds = (performance.now() - startedAt) / 1_000;
      const ours =
        (readSelfTicksWithChildren() - selfBefore) / clockTicks + readCpuSeconds(livePids, clockTicks) - oursBefore;
      // Processes are charged user + system time only, so softirq stays out of the comparison.
      const machineBusy = cpusAfter.reduce((sum, after, cpu) => {
        const before = cpusBefore[cpu] ?? after;
        return sum + (after.busy - after.softirq - (before.busy - before.softirq)) / clockTicks;
      }, 0);
      return {
        cpu0BusyPct: toBusyPercent(cpusBefore[0], cpusAfter[0]),
        cpu1BusyPct: toBusyPercent(cpusBefore[1], cpusAfter[1]),
        foreignPct: wallSeconds > 0 ? Math.max(0, (100 * (machineBusy - ours)) / wallSeconds) : Number.NaN,
      };
    },
  };
}
