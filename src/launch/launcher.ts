/**
 * The bin (dist/relay-bartender.mjs): runs the relay's bundle (dist/relay-bartender.cjs) with V8's
 * code cache from an earlier start, and leaves one for the next start when there was none (see
 * code-cache.ts). Anything wrong with the cache (missing, unreadable, made by another Node) only
 * means the bundle is compiled as usual; the relay itself behaves the same either way.
 * scripts/bundle.mjs bundles this file on its own, with the bundle's hash.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script, constants } from 'node:vm';
import { cacheDirectory, cacheFileName, isTrustedDirectory } from './code-cache.js';

declare const RELAY_BARTENDER_BUNDLE_HASH: string;

/** The cache is written this long after start: by then start-up (and usually a first request) has compiled. */
const SAVE_AFTER_MS = 2_000;

launch();

/** In a function, so the cache's bytes (half a megabyte) are garbage once the bundle is compiled. */
function launch(): void {
  const bundle = fileURLToPath(new URL('./relay-bartender.cjs', import.meta.url));
  const source = readFileSync(bundle, 'utf8');
  const dir = cacheDirectory(process.env);
  const cacheFile = dir === undefined ? undefined : join(dir, cacheFileName(RELAY_BARTENDER_BUNDLE_HASH, process.version, process.arch, process.execArgv));
  const cachedData = cacheFile === undefined || dir === undefined || !isOwnDirectory(dir) ? undefined : readOptional(cacheFile);

  // The CommonJS wrapper on the first line keeps the bundle's line numbers (and its source map) right.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cacheFile !== undefined && dir !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    setTimeout(() => saveCache(script, dir, cacheFile), SAVE_AFTER_MS).unref();
  }
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function isOwnDirectory(path: string): boolean {
  try {
    return isTrustedDirectory(statSync(path), process.getuid?.());
  } catch {
    return false;
  }
}

/** Written whole under a temporary name, then renamed: relays starting together never read half a file. */
function saveCache(compiled: Script, directory: string, path: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    if (!isOwnDirectory(directory)) return;
    const data = compiled.createCachedData();
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch {
    // A cache that cannot be written costs the next start its compile time, nothing else.
    rmSync(temp, { force: true });
  }
}
