import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCli, USAGE } from '../../src/cli.js';

test('defaults to config.yaml and no overrides', () => {
  const o = parseCli([]);
  assert.equal(o.config, 'config.yaml');
  assert.equal(o.configGiven, false);
  assert.equal(o.port, undefined);
  assert.equal(o.host, undefined);
  assert.equal(o.logLevel, undefined);
  assert.equal(o.check, false);
  assert.equal(o.help, false);
  assert.equal(o.version, false);
});

const CASES: readonly { args: string[]; expect: Record<string, unknown> }[] = [
  { args: ['-c', 'path/to/config.yaml'], expect: { config: 'path/to/config.yaml', configGiven: true } },
  { args: ['--config', 'a.yaml'], expect: { config: 'a.yaml', configGiven: true } },
  { args: ['--config=b.yaml'], expect: { config: 'b.yaml', configGiven: true } },
  { args: ['-p', '9000'], expect: { port: 9000 } },
  { args: ['--port', '0'], expect: { port: 0 } },
  { args: ['--port=65535'], expect: { port: 65535 } },
  { args: ['--host', '127.0.0.1'], expect: { host: '127.0.0.1' } },
  { args: ['--log-level', 'debug'], expect: { logLevel: 'debug' } },
  { args: ['--log-format', 'json'], expect: { logFormat: 'json' } },
  { args: ['--check'], expect: { check: true } },
  { args: ['--help'], expect: { help: true } },
  { args: ['-h'], expect: { help: true } },
  { args: ['--version'], expect: { version: true } },
  { args: ['-v'], expect: { version: true } },
  { args: ['--check', '-c', 'x.yaml', '-p', '1234', '--host', '::1'], expect: { check: true, config: 'x.yaml', port: 1234, host: '::1' } },
];

for (const c of CASES) {
  test(`parses ${c.args.join(' ')}`, () => {
    const o = parseCli(c.args) as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(c.expect)) assert.equal(o[key], value, key);
  });
}

for (const port of ['abc', '65536', '1.5', '8080x', '', ' 80', '0x50', '1e3']) {
  test(`rejects the port ${JSON.stringify(port)} with a message naming --port`, () => {
    assert.throws(() => parseCli(['-p', port]), (err: unknown) => err instanceof TypeError && /--port/.test(err.message) && err.message.includes(port));
  });
}

test('rejects a negative port', () => {
  assert.throws(() => parseCli(['--port=-1']), TypeError);
});

test('rejects an unknown option', () => {
  assert.throws(() => parseCli(['--prot', '1']), TypeError);
});

test('rejects a stray positional argument', () => {
  assert.throws(() => parseCli(['config.yaml']), TypeError);
});

test('rejects an option that lacks its value', () => {
  assert.throws(() => parseCli(['-c']), TypeError);
});

test('the usage text names every option', () => {
  for (const option of ['-c, --config', '-p, --port', '--host', '--log-level', '--check', '--version', '--help']) {
    assert.ok(USAGE.includes(option), option);
  }
});
