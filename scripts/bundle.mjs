// Bundles the relay into one ES module (dist/relay-bartender.mjs): what `npm start` and the `bin`
// run. One file starts much faster than hundreds of small modules resolved one by one (issue 3:
// listening within 300 ms of start). pino-pretty stays outside: it is loaded only when used.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: [new URL('../src/main.ts', import.meta.url).pathname],
  outfile: new URL('../dist/relay-bartender.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['pino-pretty', 'better-sqlite3', 'pg', 'ioredis'],
  define: { RELAY_BARTENDER_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require(): give the module one.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __relayCreateRequire } from 'node:module';\nconst require = __relayCreateRequire(import.meta.url);" },
  minify: true,
  keepNames: false,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
