import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { deadPort } from './dead-port.js';

/**
 * A throwaway redis-server for tests: 127.0.0.1, a free port, no persistence, a temp dir; stopped
 * by PID. Without the binary the tests fail with a message saying how to install it, unless
 * RELAY_SKIP_REDIS=1 (then `redisSkip` is the reason to hand to node:test's `skip`).
 */

export interface RedisProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its socket but stops answering (a stalled Redis). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** SIGKILL, then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export const redisSkip: string | false = process.env.RELAY_SKIP_REDIS === '1' ? 'RELAY_SKIP_REDIS=1' : false;

const SEARCH = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];

/** The redis-server binary; throws a clear message when it is not installed. */
export function findRedisServer(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SEARCH];
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    'redis-server is not installed, and the Redis limiter tests need it: install it with ' +
      '`apt-get update && apt-get install -y redis-server` (it is not started as a service), ' +
      'or set RELAY_SKIP_REDIS=1 to skip these tests.',
  );
}

/** Starts redis-server on `port` (a free one by default) and resolves once it accepts connections. */
export async function startRedis(options: { port?: number } = {}): Promise<RedisProcess> {
  const binary = findRedisServer();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await deadPort());
    try {
      return await launch(binary, port);
    } catch (err) {
      lastError = err;
      if (options.port !== undefined) break;
    }
  }
  throw lastError;
}

async function launch(binary: string, port: number): Promise<RedisProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-redis-'));
  const proc = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = proc.pid;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });

  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('error', reject);
    void exited.then(() => reject(new Error(`redis-server exited before it was ready on port ${port}:\n${output}`)));
  });
  const deadline = setTimeout(() => proc.kill('SIGKILL'), 5000);
  try {
    await ready;
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    clearTimeout(deadline);
  }
  if (pid === undefined) throw new Error('redis-server started without a PID');

  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const signal = (name: NodeJS.Signals): void => {
    if (!gone) process.kill(pid, name);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid,
    async kill() {
      signal('SIGKILL');
      await exited;
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async stop() {
      // Nothing is persisted, so there is nothing to shut down cleanly: SIGKILL is the quick way.
      signal('SIGKILL');
      await exited;
      cleanup();
    },
  };
}
