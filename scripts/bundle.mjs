// Bundles the relay (issue 3: listening within 300 ms of start):
// - dist/relay-bartender.cjs: the relay in one CommonJS file. One file starts much faster than
//   hundreds of small modules resolved one by one; CommonJS because Node 20 can run a script, but
//   not a module, with V8's code cache (vm.Script cachedData).
// - dist/relay-bartender.mjs: the bin, a small launcher (src/launch/launcher.ts) that runs the
//   bundle with the code cache an earlier start left, and its shebang carries the node flags.
// pino-pretty stays outside: it is loaded only when used.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const bundleFile = new URL('../dist/relay-bartender.cjs', import.meta.url).pathname;
const launcherFile = new URL('../dist/relay-bartender.mjs', import.meta.url).pathname;

/**
 * Node flags the relay runs with (the shebang; `npm start` says the same, a test checks).
 * - `--max-semi-space-size=8` halves V8's young generation (16 MiB instead of 32 touched): with
 *   5,000 open streams peak RSS went from 190-209 MiB to 180-182 (issue 3, C). Scavenges come twice
 *   as often; under A's load that cost 1-3 µs of CPU per request in paired runs, within this VM's
 *   noise. (An earlier session read A as erratic with this flag; the same build without it has
 *   since swung between 86 and 220 µs per request from one minute to the next, so that reading was
 *   the host.)
 * (`--min-semi-space-size=8` as well took about 20 ms off the start, but a young generation kept
 *   at 8 MiB cost 8.5 µs more per request under A's load in paired runs, and D's RSS grew 21 MiB:
 *   V8 keeps it smaller, and in cache, while few objects survive.)
 */
const NODE_FLAGS = '--max-semi-space-size=8';

/** What both files are built with. */
const common = { bundle: true, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: [new URL('../src/main.ts', import.meta.url).pathname],
  outfile: bundleFile,
  format: 'cjs',
  external: ['pino-pretty', 'better-sqlite3', 'pg', 'ioredis'],
  define: { RELAY_BARTENDER_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__relayImportMetaUrl' },
  // The sources are ES modules: import.meta.url is the bundle's URL.
  banner: { js: "var __relayImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  minify: true,
  keepNames: false,
  sourcemap: 'linked',
  plugins: [unusedModules()],
});

await build({
  ...common,
  entryPoints: [new URL('../src/launch/launcher.ts', import.meta.url).pathname],
  outfile: launcherFile,
  format: 'esm',
  define: { RELAY_BARTENDER_BUNDLE_HASH: JSON.stringify(createHash('sha256').update(readFileSync(bundleFile)).digest('hex').slice(0, 16)) },
  banner: { js: NODE_FLAGS === '' ? '#!/usr/bin/env node' : `#!/usr/bin/env -S node ${NODE_FLAGS}` },
});
// Runnable as it is (./dist/relay-bartender.mjs), as the bin is once installed.
chmodSync(launcherFile, 0o755);

/**
 * Modules the relay's dependencies load at start but the relay never uses, replaced in the bundle
 * (start-up time, issue 3): undici's HTTP/2 client (undici falls back when node:http2 cannot load;
 * the relay never enables allowH2) and pino's worker-thread transports (the relay logs through
 * pino.destination). Each stub throws if it is ever used, so a mistake shows at once.
 */
function unusedModules() {
  const stubs = [
    { module: /^(node:)?http2$/, importer: /undici[\\/]lib[\\/]dispatcher[\\/]client-h2\.js$/, contents: "throw new Error('http2 is not bundled: the relay speaks HTTP/1.1 to backends')" },
    { module: /^thread-stream$/, importer: /pino[\\/]lib[\\/]transport\.js$/, contents: "module.exports = class ThreadStream { constructor() { throw new Error('pino transports are not bundled') } }" },
    { module: /^(node:)?worker_threads$/, importer: /pino[\\/]lib[\\/]tools\.js$/, contents: 'module.exports = { isMainThread: true }' },
  ];
  return {
    name: 'unused-modules',
    setup(build) {
      build.onResolve({ filter: /^(node:)?(http2|worker_threads)$|^thread-stream$/ }, (args) => {
        const stub = stubs.find((s) => s.module.test(args.path) && s.importer.test(args.importer));
        return stub === undefined ? undefined : { path: args.path, namespace: 'unused-module', pluginData: stub.contents };
      });
      build.onLoad({ filter: /.*/, namespace: 'unused-module' }, (args) => ({ contents: args.pluginData, loader: 'js' }));
    },
  };
}
