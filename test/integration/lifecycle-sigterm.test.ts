import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { replySse, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { spawnRelay, writeConfig } from '../helpers/spawn-relay.js';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function mockWithStream(delayMs: number): Promise<MockUpstream> {
  const upstream = await startMockUpstream(replySse(['a', 'b', 'c', 'd', 'e'], { delayMs }));
  cleanup.push(() => upstream.close());
  return upstream;
}

test('SIGTERM lets an in-flight stream finish, refuses new connections, then exits 0', { timeout: 20_000 }, async () => {
  const upstream = await mockWithStream(100);
  const file = writeConfig(`server: {host: 127.0.0.1, port: 0, shutdown_grace: 10}\nbackend: {base_url: "${upstream.url}"}\n`);
  const relay = await spawnRelay(['-c', file]);
  cleanup.push(() => void relay.proc.kill('SIGKILL'));

  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","stream":true}' });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.ok(first.value && Buffer.from(first.value).toString().includes('"a"'));

  relay.proc.kill('SIGTERM');
  let text = Buffer.from(first.value).toString();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  assert.match(text, /data: \[DONE\]\n\n$/);
  assert.equal(await relay.exited, 0);
  await assert.rejects(fetch(`${relay.url}/health`));
  assert.match(relay.stdout(), /"msg":"shutting down"/);
});

test('SIGTERM cuts streams still running when the grace period ends and exits 0', { timeout: 20_000 }, async () => {
  const upstream = await mockWithStream(2_000);
  const file = writeConfig(`server: {host: 127.0.0.1, port: 0, shutdown_grace: 0.3}\nbackend: {base_url: "${upstream.url}"}\n`);
  const relay = await spawnRelay(['-c', file]);
  cleanup.push(() => void relay.proc.kill('SIGKILL'));
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","stream":true}' });
  const reader = res.body!.getReader();
  await reader.read();
  const started = Date.now();
  relay.proc.kill('SIGTERM');
  assert.equal(await relay.exited, 0);
  assert.ok(Date.now() - started < 5_000, 'exited within the grace period, not after the stream');
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) break;
  });
});
