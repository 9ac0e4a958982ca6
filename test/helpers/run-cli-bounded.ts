import { spawn } from 'node:child_process';
import { MAIN, relayEnv } from './spawn-relay.js';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Whether the process was still running after the time limit (it is then killed). */
  readonly timedOut: boolean;
}

/**
 * Like runCli, but a relay that wrongly starts (instead of refusing its config) is killed after
 * `timeoutMs` rather than left running: the test then fails on `timedOut` instead of hanging.
 */
export function runCliBounded(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<CliRun> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [MAIN, ...args], { env: relayEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}
