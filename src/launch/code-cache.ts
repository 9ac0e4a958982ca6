import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the launcher keeps V8's code cache of the bundle (issue 3, E: listening within 300 ms).
 * Compiling the 700 KB bundle is about a quarter of the relay's start-up; with the code V8 made on
 * an earlier start it is a few milliseconds. Node 20 has no compile cache of its own
 * (module.enableCompileCache came in 22), so the launcher runs the bundle through vm.Script with
 * `cachedData`, as v8-compile-cache did.
 *
 * The cache is the user's (`$XDG_CACHE_HOME/relay-bartender`, else `~/.cache/relay-bartender`):
 * code that runs must not come from a directory someone else can write. RELAY_BARTENDER_CACHE_DIR
 * names another directory; `off` (or empty) turns the cache off.
 */
export function cacheDirectory(env: NodeJS.ProcessEnv, home: () => string = homedir): string | undefined {
  const explicit = env['RELAY_BARTENDER_CACHE_DIR'];
  if (explicit !== undefined) return explicit === '' || explicit.toLowerCase() === 'off' ? undefined : explicit;
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg !== undefined && xdg.startsWith('/')) return join(xdg, 'relay-bartender');
  try {
    const dir = home();
    return dir === '' ? undefined : join(dir, '.cache', 'relay-bartender');
  } catch {
    return undefined;
  }
}

/** What the launcher knows of a cache directory (fs.Stats has these). */
export interface DirectoryFacts {
  readonly uid: number;
  readonly mode: number;
  isDirectory(): boolean;
}

/**
 * Only a directory of this user's that no one else may write holds code this process runs: the
 * cache is executable code, so a directory another user (or group) can write into would let them
 * run theirs in the relay. `uid` is undefined where processes have none (Windows).
 */
export function isTrustedDirectory(facts: DirectoryFacts, uid: number | undefined): boolean {
  return facts.isDirectory() && (uid === undefined || facts.uid === uid) && (facts.mode & 0o022) === 0;
}

/**
 * The cache file of one bundle under one Node and one set of flags. V8 rejects a cache made by
 * another V8 version or with other flags, and checks only the length of the source: the build's
 * hash of the bundle is in the name, so an edited bundle never meets an old cache, and Nodes or
 * flag sets that take turns each keep their own file instead of overwriting each other's.
 */
export function cacheFileName(bundleHash: string, version: string, arch: string, execArgv: readonly string[]): string {
  return `${bundleHash}-${version}-${arch}-${fnv1a(execArgv.join('\0'))}.v8cache`;
}

/** FNV-1a, 32 bits, as 8 hex digits: names a flag set; not a security measure. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
