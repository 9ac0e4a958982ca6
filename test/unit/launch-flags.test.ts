import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

// npm test builds first: the bundle is there. Paths from dist/test/unit/.
const root = new URL('../../../', import.meta.url);

/** The node flags of the bundle's shebang ('' for a plain `#!/usr/bin/env node`). */
function shebangFlags(): string {
  const first = readFileSync(new URL('dist/relay-bartender.mjs', root), 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env (?:-S )?node((?: -\S+)*)$/.exec(first);
  assert.ok(match, `the bundle starts with an env node shebang, not ${JSON.stringify(first)}`);
  return (match[1] as string).trim();
}

test('npm start runs node with the same flags as the bin (the bundle shebang)', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  const flags = shebangFlags();
  assert.equal(pkg.scripts.start, `node ${flags === '' ? '' : `${flags} `}dist/relay-bartender.mjs`);
  assert.equal(pkg.bin['relay-bartender'], 'dist/relay-bartender.mjs');
});
