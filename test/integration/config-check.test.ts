import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { runCliBounded as runCli } from '../helpers/run-cli-bounded.js';
import { writeConfig } from '../helpers/spawn-relay.js';

const BACKEND_KEY = 'sk-backend-SECRET-4f9a2c7e1b';
const FILE_KEY = 'rk-client-SECRET-file-0001';
const ENV_KEY = 'rk-client-SECRET-env-0002';

function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}

const GOOD = `server:
  port: 9123
backend:
  base_url: "https://api.third-party.example/v1"
  api_key: "${BACKEND_KEY}"
model:
  mapping:
    gpt-4: "gpt-4-turbo"
auth:
  keys:
    - "${FILE_KEY}"
    - "\${CLIENT_KEY}"
`;

test('--check prints the effective config with every secret masked and exits 0', { timeout: 30_000 }, async () => {
  const file = writeConfig(GOOD);
  const { code, stdout, stderr } = await runCli(['--check', '-c', file], { CLIENT_KEY: ENV_KEY });
  assert.equal(code, 0, stderr);
  const printed = stdout + stderr;
  for (const secret of [BACKEND_KEY, FILE_KEY, ENV_KEY]) assert.ok(!printed.includes(secret), `${secret} must not be printed`);
  assert.ok(!printed.includes('SECRET'), 'no part of a secret is printed');
  assert.ok(printed.includes(fingerprint(BACKEND_KEY)), 'the backend key is shown as its fingerprint');
  assert.ok(printed.includes(fingerprint(ENV_KEY)), 'an access key read from the environment is shown as its fingerprint');

  const json = JSON.parse(stdout.slice(stdout.indexOf('{'), stdout.lastIndexOf('}') + 1)) as {
    server: { port: number; host: string };
    backend: { base_url: string };
    model: { mapping: Record<string, string> };
    request: { timeout: number; connect_timeout: number };
  };
  assert.equal(json.server.port, 9123);
  assert.equal(json.server.host, '0.0.0.0');
  assert.equal(json.backend.base_url, 'https://api.third-party.example/v1');
  assert.deepEqual(json.model.mapping, { 'gpt-4': 'gpt-4-turbo' });
  assert.equal(json.request.timeout, 120);
  assert.equal(json.request.connect_timeout, 30);
  assert.ok(!stdout.includes('listening'), '--check does not start the relay');
});

test('--check shows the -p and --host overrides in the effective config', { timeout: 30_000 }, async () => {
  const { code, stdout } = await runCli(['--check', '-c', writeConfig(GOOD), '-p', '7001', '--host', '127.0.0.1'], { CLIENT_KEY: ENV_KEY });
  assert.equal(code, 0);
  const json = JSON.parse(stdout.slice(stdout.indexOf('{'), stdout.lastIndexOf('}') + 1)) as { server: { port: number; host: string } };
  assert.equal(json.server.port, 7001);
  assert.equal(json.server.host, '127.0.0.1');
});

test('--check with a bad config exits 1 naming the file, the key and the problem', { timeout: 30_000 }, async () => {
  const file = writeConfig('server:\n  prot: 9000\nbackend:\n  api_key: "sk-bad-config-SECRET"\n');
  const { code, stdout, stderr } = await runCli(['--check', '-c', file]);
  assert.equal(code, 1);
  const printed = stdout + stderr;
  assert.ok(printed.includes(file), 'names the file');
  assert.match(printed, /server\.prot/);
  assert.match(printed, /did you mean "port"/);
  assert.ok(!printed.includes('SECRET'));
});

test('--check with a missing environment variable exits 1 naming the key and the variable', { timeout: 30_000 }, async () => {
  const file = writeConfig(GOOD);
  const { code, stdout, stderr } = await runCli(['--check', '-c', file]);
  assert.equal(code, 1);
  const printed = stdout + stderr;
  assert.ok(printed.includes(file));
  assert.match(printed, /auth\.keys\[1\]/);
  assert.match(printed, /CLIENT_KEY/);
  assert.ok(!printed.includes('SECRET'), 'the other keys are not printed either');
});
