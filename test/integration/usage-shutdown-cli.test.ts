import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { withDeadline } from '../helpers/signal.js';
import { runCli, spawnRelay, writeConfig, type SpawnedRelay } from '../helpers/spawn-relay.js';
import { openAiLikeChatStream, readUsageRecords, STREAM_USAGE, tempUsageDatabase } from '../helpers/usage-fixtures.js';

/**
 * Nothing is lost on a graceful stop (issue 5): the relay (the bundle, as a child process) writes
 * the records still queued when SIGTERM arrives, before it exits; `relay-bartender usage` then
 * reads them from the same config's `usage.database`, as JSON (`--json`) or as a table.
 */

const ALICE = 'rk-alice-cli-0001';
const BOB = 'rk-bob-cli-0002';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface Report {
  object: string;
  by: string;
  data: { group: string; requests: number; prompt_tokens: number; completion_tokens: number; cached_tokens: number; reasoning_tokens: number; total_tokens: number; cost: number | null; errors: number }[];
  total: { requests: number; total_tokens: number };
}

test('records queued at SIGTERM are written before exit, and the usage command reports them as JSON and as a table', { timeout: 15_000 }, async (t) => {
  const stream = openAiLikeChatStream();
  const chat = replyChat('hi');
  const upstream: MockUpstream = await startMockUpstream((req, res, raw) => {
    if (req.body.includes('"stream":true')) return stream.handler(req, res, raw);
    return chat(req, res, raw);
  });
  cleanup.push(() => upstream.close());
  const db = tempUsageDatabase();
  cleanup.push(() => db.remove());
  const file = writeConfig(
    [
      'server: {host: 127.0.0.1, port: 0, shutdown_grace: 5}',
      `backend: {base_url: "${upstream.url}"}`,
      'auth:',
      '  keys:',
      `    - {name: alice, key: ${ALICE}}`,
      `    - {name: bob, key: ${BOB}, rpm: 100}`,
      'usage:',
      `  database: "${db.path}"`,
      '  prices: {gpt-4o: {input: 2.5, output: 10}}',
      '',
    ].join('\n'),
  );
  cleanup.push(() => rmSync(dirname(file), { recursive: true, force: true }));
  const relay: SpawnedRelay = await spawnRelay(['-c', file]);
  cleanup.push(() => void relay.proc.kill('SIGKILL'));

  const alice = new OpenAI({ apiKey: ALICE, baseURL: `${relay.url}/v1`, maxRetries: 0 });
  const bob = new OpenAI({ apiKey: BOB, baseURL: `${relay.url}/v1`, maxRetries: 0 });
  for (let i = 0; i < 2; i++) await alice.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  const s = await bob.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  for await (const chunk of s) void chunk;

  // The batch timer (1 s) has most likely not fired yet: what is in the file now is what it wrote on its own.
  const before = writtenSoFar(db.path);
  t.diagnostic(`records written before SIGTERM: ${before} of 3`);
  relay.proc.kill('SIGTERM');
  assert.equal(await withDeadline(relay.exited, 10_000, 'the relay to exit after SIGTERM'), 0, relay.stderr());

  const json = await runCli(['usage', '--by', 'key', '--json', '-c', file]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as Report;
  assert.equal(report.object, 'usage.report');
  assert.equal(report.by, 'key');
  // Most tokens first: bob's stream (19), then alice's two completions (7 each).
  assert.deepEqual(
    report.data.map((r) => [r.group, r.requests, r.prompt_tokens, r.completion_tokens, r.cached_tokens, r.reasoning_tokens, r.total_tokens, r.errors]),
    [
      ['bob', 1, STREAM_USAGE.prompt_tokens, STREAM_USAGE.completion_tokens, 4, 2, STREAM_USAGE.total_tokens, 0],
      ['alice', 2, 10, 4, 0, 0, 14, 0],
    ],
  );
  assert.ok(Math.abs((report.data[1]?.cost ?? 0) - (10 * 2.5 + 4 * 10) / 1e6) < 1e-12);
  assert.deepEqual([report.total.requests, report.total.total_tokens], [3, 14 + STREAM_USAGE.total_tokens]);

  const table = await runCli(['usage', '--by', 'model', '-c', file]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^model\s+requests\s+prompt\s+completion\s+cached\s+reasoning\s+total\s+cost\s+errors$/);
  assert.match(lines[1] ?? '', /^-+(\s+-+){8}$/);
  assert.match(lines[2] ?? '', /^gpt-4o\s+3\s+22\s+11\s+4\s+2\s+33\s+\$0\.\d{4}\s+0$/);
  assert.match(lines.at(-1) ?? '', /^total\s+3\s+22\s+11\s+4\s+2\s+33\s+\$0\.\d{4}\s+0$/);
  assert.ok(!table.stdout.includes(ALICE) && !table.stdout.includes(BOB));
});

test('the usage command without usage.database says so and exits 1; a bad --since is refused', { timeout: 10_000 }, async () => {
  const file = writeConfig('backend: {base_url: "http://127.0.0.1:9"}\n');
  cleanup.push(() => rmSync(dirname(file), { recursive: true, force: true }));
  const none = await runCli(['usage', '-c', file]);
  assert.equal(none.code, 1);
  assert.match(none.stdout + none.stderr, /usage\.database is not set/);

  const withDb = writeConfig(`usage: {database: "${dirname(file)}/u.db"}\n`);
  cleanup.push(() => rmSync(dirname(withDb), { recursive: true, force: true }));
  const bad = await runCli(['usage', '--since', 'yesterday', '-c', withDb]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--since: expected a duration such as 30m/);
});

/** Records in the file now (none while the table is not there yet). */
function writtenSoFar(path: string): number {
  try {
    return readUsageRecords(path).length;
  } catch {
    return 0;
  }
}
