import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runCliBounded as runCli } from '../helpers/run-cli-bounded.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('--help prints the usage with every option and exits 0', { timeout: 30_000 }, async () => {
  const { code, stdout, stderr } = await runCli(['--help']);
  assert.equal(code, 0);
  assert.equal(stderr, '');
  assert.match(stdout, /^Usage: relay-bartender/);
  for (const option of ['--config', '--port', '--host', '--log-level', '--check', '--version', '--help']) assert.ok(stdout.includes(option), option);
});

test('-h prints the same usage', { timeout: 30_000 }, async () => {
  const [long, short] = await Promise.all([runCli(['--help']), runCli(['-h'])]);
  assert.equal(short.code, 0);
  assert.equal(short.stdout, long.stdout);
});

test('--version prints the package.json version and exits 0', { timeout: 30_000 }, async () => {
  const { code, stdout } = await runCli(['--version']);
  assert.equal(code, 0);
  assert.equal(stdout.trim(), VERSION);
});

test('--help does not need a config file', { timeout: 30_000 }, async () => {
  const { code } = await runCli(['--help', '-c', '/nonexistent/relay.yaml']);
  assert.equal(code, 0);
});

test('a bad port on the command line exits non-zero, naming --port and showing the usage', { timeout: 30_000 }, async () => {
  const { code, stdout, stderr } = await runCli(['-p', 'abc']);
  assert.notEqual(code, 0);
  assert.match(stderr, /--port/);
  assert.match(stderr, /abc/);
  assert.match(stderr, /Usage:/);
  assert.doesNotMatch(stdout, /listening/);
});

test('an unknown option exits non-zero with the usage', { timeout: 30_000 }, async () => {
  const { code, stderr } = await runCli(['--prot', '9000']);
  assert.notEqual(code, 0);
  assert.match(stderr, /prot/);
  assert.match(stderr, /Usage:/);
});
