/**
 * Every process the bench starts goes through one registry, so all of them (and only them) are
 * ended by PID at the end, on errors and on SIGINT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { listProcessTree, readProcStat, type ProcStat } from './proc-stats.js';

export interface SpawnSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** CPU to pin to with taskset; undefined = inherit the bench's affinity. */
  readonly cpu?: number;
  /** stdout and stderr go here (appended); stdout may instead be piped. */
  readonly logPath: string;
  readonly pipeStdout?: boolean;
  readonly cwd?: string;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  readonly logPath: string;
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
}

export interface ChildRegistry {
  spawn(spec: SpawnSpec): ChildHandle;
  stop(handle: ChildHandle, graceMs?: number): Promise<void>;
  stopAll(): Promise<void>;
  /** Last resort from a synchronous 'exit' handler: SIGKILL whatever is still ours. */
  killAllSync(): void;
}

interface Tracked {
  readonly handle: ChildHandle;
  /** Descendants seen while running, with their start time to avoid killing a reused PID. */
  descendants: ProcStat[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isSameProcess(stat: ProcStat): boolean {
  return readProcStat(stat.pid)?.startTicks === stat.startTicks;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

export function createChildRegistry(pinning: boolean): ChildRegistry {
  const tracked = new Map<number, Tracked>();

  function spawnChild(spec: SpawnSpec): ChildHandle {
    const pinned = pinning && spec.cpu !== undefined;
    const command = pinned ? 'taskset' : spec.command;
    const args = pinned ? ['-c', String(spec.cpu), spec.command, ...spec.args] : [...spec.args];
    const logFd = openSync(spec.logPath, 'a');
    const child = spawn(command, args, {
      cwd: spec.cwd,
      stdio: ['ignore', spec.pipeStdout === true ? 'pipe' : logFd, logFd],
      detached: false,
    });
    closeSync(logFd);
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    let running = true;
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        resolve({ code, signal });
      });
      child.once('error', () => {
        running = false;
        resolve({ code: null, signal: null });
      });
    });
    const handle: ChildHandle = {
      name: spec.name,
      pid: child.pid,
      process: child,
      logPath: spec.logPath,
      exited,
      isRunning: () => running,
    };
    tracked.set(child.pid, { handle, descendants: [] });
    return handle;
  }

  async function stopChild(handle: ChildHandle, graceMs = 5_000): Promise<void> {
    const entry = tracked.get(handle.pid);
    if (entry === undefined) return;
    if (handle.isRunning()) {
      entry.descendants = listProcessTree(handle.pid).slice(1);
      killQuietly(handle.pid, 'SIGTERM');
      const timedOut = await Promise.race([handle.exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        killQuietly(handle.pid, 'SIGKILL');
        await Promise.race([handle.exited, sleep(2_000)]);
      }
    }
    // Descendants (nginx's worker) normally leave with their parent; make sure they did.
    for (let round = 0; round < 20; round += 1) {
      const alive = entry.descendants.filter(isSameProcess);
      if (alive.length === 0) break;
      if (round === 10) for (const stat of alive) killQuietly(stat.pid, 'SIGKILL');
      await sleep(100);
    }
    tracked.delete(handle.pid);
  }

  return {
    spawn: spawnChild,
    stop: stopChild,
    async stopAll(): Promise<void> {
      await Promise.all([...tracked.values()].map((entry) => stopChild(entry.handle, 3_000)));
    },
    killAllSync(): void {
      for (const entry of tracked.values()) {
        const descendants = entry.handle.isRunning() ? listProcessTree(entry.handle.pid).slice(1) : entry.descendants;
        if (entry.handle.isRunning()) killQuietly(entry.handle.pid, 'SIGKILL');
        for (const stat of descendants) if (isSameProcess(stat)) killQuietly(stat.pid, 'SIGKILL');
      }
      tracked.clear();
    },
  };
}
