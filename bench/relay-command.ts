/**
 * Which relay the bench starts. An explicit --relay-cmd / BENCH_RELAY_CMD wins; otherwise the
 * shipped bundle (dist/relay-bartender.mjs, what `npm start` and the bin run, with the node flags
 * of its shebang) when it exists,
 * else the tsc output dist/src/main.js (which `npm run bench` itself compiles).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const BUNDLE_PATH = 'dist/relay-bartender.mjs';
export const TSC_ENTRY_PATH = 'dist/src/main.js';

export interface RelayCommand {
  readonly template: string;
  /** Why the relay cannot run, or undefined. */
  readonly skipNote: string | undefined;
  /** Things the reader should know, e.g. a bundle older than the sources. */
  readonly notes: readonly string[];
}

function readNewestMtimeMs(dir: string): number {
  let newest = 0;
  const pending = [dir];
  for (let i = 0; i < pending.length && i < 10_000; i += 1) {
    const current = pending[i] ?? dir;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/**
 * The node flags in the bundle's shebang (`#!/usr/bin/env -S node --flag …`): the bench runs the
 * relay as the bin does. Pure; '' for a plain `#!/usr/bin/env node` or no shebang.
 */
export function readShebangFlags(firstLine: string): string {
  const match = /^#!\S*env\s+(?:-S\s+)?node((?:\s+-\S+)*)\s*$/.exec(firstLine);
  return match?.[1]?.trim() ?? '';
}

function bundleNodeFlags(bundle: string): string {
  const head = readFileSync(bundle, 'utf8').slice(0, 200);
  return readShebangFlags(head.split('\n', 1)[0] ?? '');
}

export function resolveRelayCommand(rootDir: string, explicit: string | undefined): RelayCommand {
  if (explicit !== undefined) {
    const template = explicit.includes('{config}') ? explicit : `${explicit} -c {config}`;
    return { template, skipNote: undefined, notes: [] };
  }
  const bundle = join(rootDir, BUNDLE_PATH);
  if (existsSync(bundle)) {
    const sources = join(rootDir, 'src');
    const stale = existsSync(sources) && statSync(bundle).mtimeMs < readNewestMtimeMs(sources);
    const notes = stale
      ? [`${BUNDLE_PATH} is older than src/: the relay measured may not be the current code (run \`npm run build\`).`]
      : [];
    const flags = bundleNodeFlags(bundle);
    return { template: `node ${flags === '' ? '' : `${flags} `}${BUNDLE_PATH} -c {config}`, skipNote: undefined, notes };
  }
  if (existsSync(join(rootDir, TSC_ENTRY_PATH))) {
    return { template: `node ${TSC_ENTRY_PATH} -c {config}`, skipNote: undefined, notes: [] };
  }
  return {
    template: `node ${TSC_ENTRY_PATH} -c {config}`,
    skipNote: `relay skipped: neither ${BUNDLE_PATH} nor ${TSC_ENTRY_PATH} exists (build the relay first)`,
    notes: [],
  };
}
