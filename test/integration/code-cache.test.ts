import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { spawnRelay, writeConfig, type SpawnedRelay } from '../helpers/spawn-relay.js';

// The bin runs the bundle with V8's code cache (src/launch): made 2 s after a start that had none,
// used by the next start. These tests check what is on disk and that the relay serves either way.
const root = mkdtempSync(join(tmpdir(), 'relay-code-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

const REPLY = 'Hello from the mock upstream.';
let upstream: MockUpstream | undefined;
let config = '';

async function setup(): Promise<void> {
  upstream ??= await startMockUpstream(replyChat(REPLY));
  if (config === '') config = writeConfig(`server: {host: 127.0.0.1, port: 0}\nbackend: {base_url: "${upstream.url}", api_key: sk-backend}\n`);
}
after(async () => upstream?.close());

/** Resolves when `dir` holds a finished cache file (the launcher renames it into place). */
function cacheFileAppears(dir: string, settled: (name: string) => boolean): Promise<string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return new Promise((resolve) => {
    const check = (): boolean => {
      const done = readdirSync(dir).find((n) => n.endsWith('.v8cache') && settled(n));
      if (done === undefined) return false;
      watcher.close();
      resolve(done);
      return true;
    };
    const watcher = watch(dir, () => void check());
    check();
  });
}

async function chat(relay: SpawnedRelay): Promise<string | null> {
  const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
  const reply = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  return reply.choices[0]?.message.content ?? null;
}

async function stop(relay: SpawnedRelay): Promise<void> {
  relay.proc.kill('SIGTERM');
  assert.equal(await relay.exited, 0);
}

test('a first start writes the code cache, private to the user; the next start uses it and serves the same', { timeout: 30_000 }, async () => {
  await setup();
  const dir = join(root, 'fresh');
  const made = cacheFileAppears(dir, () => true);
  const first = await spawnRelay(['-c', config], { RELAY_BARTENDER_CACHE_DIR: dir });
  const answer = await chat(first);
  const name = await made;
  await stop(first);
  assert.match(name, /^[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+-[0-9a-f]{8}\.v8cache$/);
  const file = join(dir, name);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(statSync(file).size > 100_000, 'the cache holds the compiled bundle');
  assert.deepEqual(readdirSync(dir), [name], 'no temporary file is left');

  const second = await spawnRelay(['-c', config], { RELAY_BARTENDER_CACHE_DIR: dir });
  assert.equal(await chat(second), answer);
  await stop(second);
  assert.equal(answer, REPLY);
  assert.equal(upstream?.requests.filter((r) => r.url === '/v1/chat/completions').length, 2);
});

test('a damaged cache file is ignored and replaced; the relay starts and serves as usual', { timeout: 30_000 }, async () => {
  await setup();
  const dir = join(root, 'damaged');
  const made = cacheFileAppears(dir, () => true);
  const first = await spawnRelay(['-c', config], { RELAY_BARTENDER_CACHE_DIR: dir });
  const name = await made;
  await stop(first);
  const file = join(dir, name);
  const garbage = Buffer.alloc(4096, 0x5a);
  writeFileSync(file, garbage);

  const replaced = cacheFileAppears(dir, (n) => n === name && !readFileSync(join(dir, n)).subarray(0, 64).equals(garbage.subarray(0, 64)));
  const second = await spawnRelay(['-c', config], { RELAY_BARTENDER_CACHE_DIR: dir });
  assert.equal(await chat(second), REPLY);
  await replaced;
  await stop(second);
});

test('a cache directory others can write is neither read nor written', { timeout: 30_000 }, async () => {
  await setup();
  const dir = join(root, 'shared');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  const relay = await spawnRelay(['-c', config], { RELAY_BARTENDER_CACHE_DIR: dir });
  assert.equal(await chat(relay), REPLY);
  // A trusted directory beside it gets its cache from an identical relay meanwhile: by the time
  // that file is there, the first relay has passed its own moment to write.
  const trusted = join(root, 'beside');
  const made = cacheFileAppears(trusted, () => true);
  const witness = await spawnRelay(['-c', config], { RELAY_BARTENDER_CACHE_DIR: trusted });
  await made;
  await Promise.all([stop(relay), stop(witness)]);
  assert.deepEqual(readdirSync(dir), []);
});
