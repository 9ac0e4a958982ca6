/**
 * Reads CPU time and memory of a process tree from /proc (Linux only). The proxy under test is
 * measured as its whole tree: nginx is a master plus a worker, a relay may fork helpers.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  /** Start time since boot, in clock ticks: tells a live process from a reused PID. */
  readonly startTicks: number;
}

export function readClockTicks(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const start = Number(fields[19]);
  if (![ppid, utime, stime, start].every(Number.isFinite)) return undefined;
  return { pid, ppid, cpuTicks: utime + stime, startTicks: start };
}

/** The root and all its descendants that are alive now (root first). */
export function listProcessTree(rootPid: number): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  let root: ProcStat | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat === undefined) continue;
    if (stat.pid === rootPid) root = stat;
    const siblings = byParent.get(stat.ppid) ?? [];
    siblings.push(stat);
    byParent.set(stat.ppid, siblings);
  }
  if (root === undefined) return [];
  const tree: ProcStat[] = [root];
  for (let i = 0; i < tree.length && i < 10_000; i += 1) {
    const current = tree[i];
    if (current !== undefined) tree.push(...(byParent.get(current.pid) ?? []));
  }
  return tree;
}

export function readTreePids(rootPid: number): number[] {
  return listProcessTree(rootPid).map((stat) => stat.pid);
}

/** Total CPU seconds (user + system) of the given processes. */
export function readCpuSeconds(pids: readonly number[], clockTicks: number): number {
  let ticks = 0;
  for (const pid of pids) ticks += readProcStat(pid)?.cpuTicks ?? 0;
  return ticks / clockTicks;
}

function readStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match?.[1] === undefined ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

export function readRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + readStatusKiB(pid, 'VmRSS') * 1024, 0);
}

export function readPeakRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + readStatusKiB(pid, 'VmHWM') * 1024, 0);
}

/** Resets VmHWM to the current RSS (proc(5): writing 5 to clear_refs). */
export function resetPeakRss(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // Not permitted or gone: the polled maximum still bounds the peak from below.
    }
  }
}

export interface RssSampler {
  /** Stops polling; returns the peak RSS in bytes (max of polled sum and summed VmHWM). */
  stop(): number;
}

export function startRssSampler(pids: readonly number[], intervalMs: number): RssSampler {
  resetPeakRss(pids);
  let peak = readRssBytes(pids);
  const timer = setInterval(() => {
    peak = Math.max(peak, readRssBytes(pids));
  }, intervalMs);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, readRssBytes(pids), readPeakRssBytes(pids));
    },
  };
}

export interface CpuTimes {
  /** user + nice + system + irq + softirq ticks. */
  readonly busy: number;
  /** softirq alone: loopback packet processing, not charged to any process. */
  readonly softirq: number;
  readonly total: number;
}

/** Per-CPU times from /proc/stat, indexed by CPU number. */
export function readCpuTimes(): CpuTimes[] {
  const result: CpuTimes[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = match[2]
      .split(/\s+/)
      .map(Number);
    result[Number(match[1])] = {
      busy: user + nice + system + irq + softirq,
      softirq,
      total: user + nice + system + idle + iowait + irq + softirq + steal,
    };
  }
  return result;
}

/** This process's CPU ticks including its reaped children (wrk, stopped proxies). */
export function readSelfTicksWithChildren(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8');
  const rest = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, index) => sum + Number(rest[index] ?? 0), 0);
}
