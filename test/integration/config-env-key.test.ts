import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { replyChat, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { spawnRelay, writeConfig, type SpawnedRelay } from '../helpers/spawn-relay.js';

const TEST_KEY = 'sk-from-the-environment-9d8c7b6a';

let upstream: MockUpstream;
let relay: SpawnedRelay;

before(async () => {
  upstream = await startMockUpstream(replyChat());
  const file = writeConfig(
    [
      'server:',
      '  host: "127.0.0.1"',
      '  port: ${RELAY_PORT:-0}',
      'backend:',
      `  base_url: "${upstream.url}"`,
      '  api_key: "${TEST_KEY}"',
      'model:',
      '  override: "${FORCE_MODEL:-gpt-4o-mini}"',
      '',
    ].join('\n'),
  );
  relay = await spawnRelay(['-c', file], { TEST_KEY });
});
after(async () => {
  relay.proc.kill('SIGTERM');
  await relay.exited;
  await upstream.close();
});

test('reads ${TEST_KEY} from the environment and sends it to the backend as the key', { timeout: 30_000 }, async () => {
  const client = new OpenAI({ apiKey: 'sk-client-anything', baseURL: `${relay.url}/v1`, maxRetries: 0 });
  const pending = upstream.nextRequest();
  const completion = await client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'Hello!' }] });
  const seen = await pending;
  assert.equal(seen.headers.authorization, `Bearer ${TEST_KEY}`);
  assert.equal((JSON.parse(seen.body.toString()) as { model: string }).model, 'gpt-4o-mini', 'the ${VAR:-default} fallback applies');
  assert.equal(completion.model, 'gpt-4o-mini');
  assert.ok(!relay.stdout().includes(TEST_KEY), 'the key read from the environment is never logged');
  assert.ok(!relay.stderr().includes(TEST_KEY));
});
