/**
 * Finds wrk and nginx, installing them from Debian's packages when missing (root only). apt runs
 * with a policy-rc.d that forbids starting services, so installing nginx never leaves a system
 * nginx listening on port 80.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';

export interface ToolInfo {
  readonly path: string | undefined;
  readonly version: string;
  readonly note: string | undefined;
}

export interface ToolRequest {
  readonly binary: string;
  /** Debian packages to try, in order; the first with an install candidate wins. */
  readonly packages: readonly string[];
  readonly versionArgs: readonly string[];
  readonly allowInstall: boolean;
}

const POLICY_RC = '/usr/sbin/policy-rc.d';
const APT_TIMEOUT_MS = 300_000;

function findBinary(binary: string): string | undefined {
  const candidates = [`/usr/sbin/${binary}`, `/usr/bin/${binary}`, `/usr/local/bin/${binary}`];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found !== undefined) return found;
  const which = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = which.stdout.trim();
  return which.status === 0 && path !== '' ? path : undefined;
}

function readVersion(path: string, args: readonly string[]): string {
  const result = spawnSync(path, [...args], { encoding: 'utf8', timeout: 5_000 });
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const line = text.split('\n').find((candidate) => /\d+\.\d+/.test(candidate)) ?? 'unknown';
  return line.replace(/\s*Copyright.*$/, '').trim();
}

function runApt(args: readonly string[]): boolean {
  const result = spawnSync('apt-get', [...args], {
    encoding: 'utf8',
    timeout: APT_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

function hasInstallCandidate(pkg: string): boolean {
  const result = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8', timeout: 60_000 });
  const candidate = /Candidate:\s*(\S+)/.exec(result.stdout ?? '')?.[1];
  return candidate !== undefined && candidate !== '(none)';
}

function withServicesBlocked<T>(action: () => T): T {
  const created = !existsSync(POLICY_RC);
  if (created) {
    writeFileSync(POLICY_RC, '#!/bin/sh\n# written by the relay-bartender bench while apt runs\nexit 101\n');
    chmodSync(POLICY_RC, 0o755);
  }
  try {
    return action();
  } finally {
    if (created) rmSync(POLICY_RC, { force: true });
  }
}

export interface AptState {
  updated: boolean;
}

function installPackage(request: ToolRequest, apt: AptState): string | undefined {
  if (process.getuid?.() !== 0) return 'not root, cannot apt-get install';
  if (!apt.updated) {
    process.stderr.write('bench: apt-get update …\n');
    apt.updated = runApt(['update']);
    if (!apt.updated) return 'apt-get update failed';
  }
  const pkg = request.packages.find(hasInstallCandidate);
  if (pkg === undefined) return `no install candidate among ${request.packages.join(', ')}`;
  process.stderr.write(`bench: apt-get install -y ${pkg} …\n`);
  const ok = withServicesBlocked(() => runApt(['install', '-y', '--no-install-recommends', pkg]));
  return ok ? undefined : `apt-get install ${pkg} failed`;
}

export function ensureTool(request: ToolRequest, apt: AptState): ToolInfo {
  let path = findBinary(request.binary);
  let note: string | undefined;
  if (path === undefined && request.allowInstall) {
    note = installPackage(request, apt);
    path = findBinary(request.binary);
  } else if (path === undefined) {
    note = 'not installed and --no-install given';
  }
  if (path === undefined) return { path, version: 'missing', note: note ?? `${request.binary} not found` };
  return { path, version: readVersion(path, request.versionArgs), note: undefined };
}
