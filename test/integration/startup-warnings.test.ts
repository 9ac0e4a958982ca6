import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { MAIN, relayEnv, spawnRelay, writeConfig } from '../helpers/spawn-relay.js';

test('warns at start when a backend key is set, auth.keys is empty and the relay listens beyond loopback', { timeout: 15_000 }, async () => {
  const file = writeConfig('server: {host: 0.0.0.0, port: 0}\nbackend: {base_url: "http://127.0.0.1:9", api_key: "sk-open-relay-key"}\n');
  const relay = await spawnRelay(['-c', file]);
  relay.proc.kill('SIGTERM');
  assert.equal(await relay.exited, 0);
  const warning = relay.stdout().split('\n').find((line) => line.includes('anyone who can reach it spends your key'));
  assert.ok(warning, 'the open-relay warning was logged');
  assert.equal((JSON.parse(warning) as { level: number }).level, 40);
  assert.ok(!relay.stdout().includes('sk-open-relay-key'));
});

test('does not warn when access keys are set or the relay listens on loopback', { timeout: 15_000 }, async () => {
  for (const yaml of [
    'server: {host: 0.0.0.0, port: 0}\nbackend: {base_url: "http://127.0.0.1:9", api_key: "sk-x"}\nauth: {keys: [relay-key]}\n',
    'server: {host: 127.0.0.1, port: 0}\nbackend: {base_url: "http://127.0.0.1:9", api_key: "sk-x"}\n',
  ]) {
    const relay = await spawnRelay(['-c', writeConfig(yaml)]);
    relay.proc.kill('SIGTERM');
    assert.equal(await relay.exited, 0);
    assert.ok(!relay.stdout().includes('spends your key'));
  }
});

test('--log-format pretty prints human-readable lines, not JSON', { timeout: 15_000 }, async () => {
  const file = writeConfig('server: {host: 127.0.0.1, port: 0}\n');
  const proc = spawn(process.execPath, [MAIN, '-c', file, '--log-format', 'pretty'], { env: { ...process.env, ...relayEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve) => {
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('relay listening')) resolve();
    });
  });
  proc.kill('SIGTERM');
  await new Promise((resolve) => proc.on('close', resolve));
  const line = out.split('\n').find((l) => l.includes('relay listening')) ?? '';
  assert.match(line, /INFO/);
  assert.throws(() => JSON.parse(line));
});
