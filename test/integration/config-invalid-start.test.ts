import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { runCliBounded } from '../helpers/run-cli-bounded.js';
import { writeConfig } from '../helpers/spawn-relay.js';

const LOCAL = ['-p', '0', '--host', '127.0.0.1'];

const CASES: readonly { name: string; yaml: string; args: readonly string[]; key: string; problem: RegExp }[] = [
  { name: 'a negative timeout', yaml: 'request:\n  timeout: -1\n', args: LOCAL, key: 'request.timeout', problem: /greater than 0/ },
  { name: 'a port that is not a number', yaml: 'server:\n  port: "abc"\n  host: "127.0.0.1"\n', args: [], key: 'server.port', problem: /expected number/ },
  { name: 'a bad URL', yaml: 'backend:\n  base_url: "ftp://x"\n', args: LOCAL, key: 'backend.base_url', problem: /http/ },
  { name: 'an unknown key', yaml: 'model:\n  overide: "gpt-4o"\n', args: LOCAL, key: 'model.overide', problem: /unknown key.*did you mean "override"/ },
];

for (const c of CASES) {
  test(`refuses to start with ${c.name}: exit 1, stderr names the file, ${c.key} and the problem`, { timeout: 30_000 }, async () => {
    const file = writeConfig(c.yaml);
    const { code, stdout, stderr, timedOut } = await runCliBounded(['-c', file, ...c.args]);
    assert.equal(timedOut, false, 'the relay must not start');
    assert.equal(code, 1);
    assert.ok(stderr.includes(file), `names ${file}: ${stderr}`);
    assert.ok(stderr.includes(c.key), `names ${c.key}: ${stderr}`);
    assert.match(stderr, c.problem);
    assert.doesNotMatch(stdout, /listening/);
  });
}

test('refuses to start when the -c file does not exist: exit 1 naming the file', { timeout: 30_000 }, async () => {
  const file = join(tmpdir(), `relay-missing-${process.pid}-${Date.now()}.yaml`);
  const { code, stdout, stderr, timedOut } = await runCliBounded(['-c', file, ...LOCAL]);
  assert.equal(timedOut, false, 'the relay must not start');
  assert.equal(code, 1);
  assert.ok(stderr.includes(file), stderr);
  assert.match(stderr, /does not exist|not found|ENOENT/i);
  assert.doesNotMatch(stdout, /listening/);
});

test('refuses to start when a referenced variable is missing: exit 1 naming the key and the variable', { timeout: 30_000 }, async () => {
  const file = writeConfig('backend:\n  api_key: "${TEST_KEY}"\n');
  const { code, stderr, timedOut } = await runCliBounded(['-c', file, ...LOCAL]);
  assert.equal(timedOut, false, 'the relay must not start');
  assert.equal(code, 1);
  assert.ok(stderr.includes(file));
  assert.match(stderr, /backend\.api_key/);
  assert.match(stderr, /TEST_KEY/);
});

test('reports a wrong-typed port in the file even when -p overrides it (--check must not pass a broken file)', { timeout: 30_000 }, async () => {
  const file = writeConfig('server:\n  port: "abc"\n');
  const { code, stdout, stderr, timedOut } = await runCliBounded(['--check', '-c', file, '-p', '9000']);
  assert.equal(timedOut, false);
  assert.equal(code, 1, `expected exit 1, got ${String(code)}; stdout: ${stdout}`);
  assert.ok(stderr.includes(file));
  assert.match(stderr, /server\.port/);
});
