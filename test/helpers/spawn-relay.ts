import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../relay-bartender.mjs', import.meta.url));

export interface SpawnedRelay {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Temp directories of this test file, removed when its process exits. */
const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

let cacheDir: string | undefined;

/**
 * The environment a spawned relay gets: PATH, and a V8 code cache directory of this test file's
 * (src/launch), so tests never write to the user's ~/.cache; then `env`.
 */
export function relayEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  if (cacheDir === undefined) {
    cacheDir = mkdtempSync(join(tmpdir(), 'relay-test-v8-'));
    tempDirs.push(cacheDir);
  }
  return { PATH: process.env.PATH, RELAY_BARTENDER_CACHE_DIR: cacheDir, ...env };
}

/** Writes `yaml` to a temp file (removed when the test process exits) and returns its path. */
export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  tempDirs.push(dir);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Runs the relay CLI to completion (for --check, --help, bad configs). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [MAIN, ...args], { env: relayEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the relay as a child process (port 0 unless the config says) and waits until it listens. */
export async function spawnRelay(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<SpawnedRelay> {
  const proc = spawn(process.execPath, [MAIN, '--log-format', 'json', ...args], {
    env: relayEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /relay listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    void exited.then((code) => reject(new Error(`relay exited (${code}) before listening: ${err}${out}`)));
  });
  return { proc, url: `http://127.0.0.1:${port}`, port, stdout: () => out, stderr: () => err, exited };
}
