/**
 * The things under test: direct, nginx, and the relay with each of its config variants
 * (relay-variants.ts). Each start() spawns a fresh process pinned to the proxy CPU and resolves
 * once GET /health answers 200; "direct" is the mock itself and costs nothing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildHandle } from './children.js';
import type { BenchContext } from './context.js';
import { findFreePort, waitForHealthy } from './http-util.js';
import { renderNginxConfig } from './nginx-config.js';
import { readTreePids } from './proc-stats.js';
import type { RelayCommand } from './relay-command.js';
import { expandRelayCommand, renderRelayConfig } from './relay-config.js';
import { RELAY_VARIANTS, RELAY_VARIANT_NAMES, type RelayVariant, type RelayVariantName } from './relay-variants.js';

export type TargetName = 'direct' | 'nginx' | RelayVariantName;
/** In run order: every case runs its targets in this order, once per repetition. */
export const TARGET_NAMES: readonly TargetName[] = ['direct', 'nginx', ...RELAY_VARIANT_NAMES];

/** Whether a target is the relay or one of its config variants (a Node process). */
export function isRelayTarget(name: TargetName): boolean {
  return name !== 'direct' && name !== 'nginx';
}

/** Whether a target is a config variant of the relay other than the plain `relay`. */
export function isRelayVariant(name: TargetName): boolean {
  return name !== 'direct' && name !== 'nginx' && name !== 'relay';
}

export interface RunningTarget {
  readonly name: TargetName;
  readonly baseUrl: string;
  /** spawn → first 200 from /health, in ms (0 for direct). */
  readonly startupMs: number;
  /** The proxy's process tree now; empty for direct. */
  readProxyPids(): number[];
  /** The SQLite usage database of a relay variant with accounting on (relay-usage), else undefined. */
  readonly usageDatabase: string | undefined;
  /** Ends the process (the relay flushes its usage records first); later calls do nothing. */
  stop(): Promise<void>;
}

export interface Target {
  readonly name: TargetName;
  /** Why this target cannot run, or undefined when it can. */
  readonly skipNote: string | undefined;
  start(ctx: BenchContext): Promise<RunningTarget>;
}

const HEALTH_TIMEOUT_MS = 15_000;

function readLogTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

async function startProcessTarget(
  ctx: BenchContext,
  name: TargetName,
  port: number,
  spawnTarget: () => ChildHandle,
  usageDatabase?: string,
): Promise<RunningTarget> {
  const startedAt = performance.now();
  const handle = spawnTarget();
  let startupMs: number;
  try {
    startupMs = await waitForHealthy(`http://127.0.0.1:${port}/health`, startedAt, HEALTH_TIMEOUT_MS, () =>
      handle.isRunning(),
    );
  } catch (error) {
    await ctx.registry.stop(handle);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${name} did not start: ${reason}\n--- ${handle.logPath} ---\n${readLogTail(handle.logPath)}`);
  }
  return {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
    startupMs,
    readProxyPids: () => readTreePids(handle.pid),
    usageDatabase,
    stop: () => ctx.registry.stop(handle),
  };
}

function createDirectTarget(): Target {
  return {
    name: 'direct',
    skipNote: undefined,
    start: (ctx) =>
      Promise.resolve({
        name: 'direct',
        baseUrl: ctx.mock.baseUrl,
        startupMs: 0,
        readProxyPids: () => [],
        usageDatabase: undefined,
        stop: () => Promise.resolve(),
      }),
  };
}

function createNginxTarget(nginxPath: string | undefined, note: string | undefined): Target {
  return {
    name: 'nginx',
    skipNote: nginxPath === undefined ? `nginx skipped: ${note ?? 'not available'}` : undefined,
    async start(ctx) {
      if (nginxPath === undefined) throw new Error('nginx is not available');
      const dir = mkdtempSync(join(ctx.tempDir, 'nginx-'));
      const port = await findFreePort();
      const configPath = join(dir, 'nginx.conf');
      const runAsRoot = process.getuid?.() === 0;
      writeFileSync(
        configPath,
        renderNginxConfig({ dir, port, upstreamPort: ctx.mock.port, fdLimit: ctx.fdLimit, runAsRoot }),
      );
      return startProcessTarget(ctx, 'nginx', port, () =>
        ctx.registry.spawn({
          name: 'nginx',
          command: nginxPath,
          args: ['-p', dir, '-c', configPath, '-e', join(dir, 'error.log')],
          cpu: ctx.proxyCpu,
          logPath: join(dir, 'stdout.log'),
        }),
      );
    },
  };
}

function createRelayTarget(
  variant: RelayVariant & { readonly name: RelayVariantName },
  template: string,
  skipNote: string | undefined,
): Target {
  return {
    name: variant.name,
    skipNote:
      skipNote === undefined || variant.name === 'relay' ? skipNote : `${variant.name} skipped: same command as relay`,
    async start(ctx) {
      const dir = mkdtempSync(join(ctx.tempDir, `${variant.name}-`));
      const port = await findFreePort();
      const configPath = join(dir, 'config.yaml');
      const overlay = variant.overlay({ upstreamBaseUrl: ctx.mock.baseUrl, tempDir: dir });
      writeFileSync(configPath, renderRelayConfig({ port, upstreamPort: ctx.mock.port, overlay }));
      const command = expandRelayCommand(template, configPath, port);
      const usageDatabase = variant.usageDatabaseFile === undefined ? undefined : join(dir, variant.usageDatabaseFile);
      return startProcessTarget(ctx, variant.name, port, () =>
        ctx.registry.spawn({
          name: variant.name,
          command: 'sh',
          // exec: the shell becomes the relay, so the PID we hold is the relay's own.
          args: ['-c', `exec ${command}`],
          cpu: ctx.proxyCpu,
          cwd: ctx.rootDir,
          logPath: join(dir, 'relay.log'),
        }),
        usageDatabase,
      );
    },
  };
}

export function createTargets(ctx: BenchContext, relay: RelayCommand): Target[] {
  const all: Target[] = [
    createDirectTarget(),
    createNginxTarget(ctx.nginx.path, ctx.nginx.note),
    ...RELAY_VARIANTS.map((variant) => createRelayTarget(variant, relay.template, relay.skipNote)),
  ];
  return all.filter((target) => ctx.options.targets.includes(target.name));
}
