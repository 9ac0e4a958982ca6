import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';
import { assertCost, clientFor, readUsageRecords, recordOf, tempUsageDatabase, type TempDatabase } from '../helpers/usage-fixtures.js';

/**
 * Endpoints other than chat (issue 5) are recorded with whatever usage their response carries:
 * embeddings (`prompt_tokens`, `total_tokens`) and gpt-image-1 images (`input_tokens`,
 * `output_tokens`), priced from the table.
 */

const KEY = 'rk-embeddings-0001';

let upstream: MockUpstream;
let relay: RunningRelay;
let db: TempDatabase;

before(async () => {
  db = tempUsageDatabase();
  upstream = await startMockUpstream((req, res) => {
    if (req.url.endsWith('/embeddings')) {
      replyJson(200, {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] }, { object: 'embedding', index: 1, embedding: [0.4, 0.5, -0.6] }],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 8, total_tokens: 8 },
      })(req, res, undefined as never);
    } else {
      replyJson(200, {
        created: 1700000000,
        data: [{ b64_json: 'aGVsbG8=' }],
        usage: { input_tokens: 50, input_tokens_details: { text_tokens: 50, image_tokens: 0 }, output_tokens: 4160, total_tokens: 4210 },
      })(req, res, undefined as never);
    }
  });
  relay = await startRelay({
    backend: { base_url: upstream.url },
    auth: { keys: [{ name: 'embedder', key: KEY }] },
    usage: { database: db.path, prices: { 'text-embedding-3-small': { input: 0.02, output: 0 }, 'gpt-image-1': { input: 5, output: 40 } } },
  });
});
after(async () => {
  await relay.close();
  await upstream.close();
  db.remove();
});

test('embeddings and image generations are recorded with the usage their responses carry', { timeout: 5_000 }, async () => {
  const client = clientFor(relay, KEY);
  const embeddings = await client.embeddings.create(
    { model: 'text-embedding-3-small', input: ['hello', 'world'], encoding_format: 'float' },
    { headers: { 'x-request-id': 'emb-1' } },
  );
  assert.equal(embeddings.data.length, 2);
  assert.deepEqual(embeddings.usage, { prompt_tokens: 8, total_tokens: 8 });
  const image = await client.images.generate({ model: 'gpt-image-1', prompt: 'a bar' }, { headers: { 'x-request-id': 'img-1' } });
  assert.equal(image.data?.[0]?.b64_json, 'aGVsbG8=');

  await relay.close();
  const records = readUsageRecords(db.path);
  const emb = recordOf(records, 'emb-1');
  assert.equal(emb.endpoint, '/embeddings');
  assert.equal(emb.model_asked, 'text-embedding-3-small');
  assert.equal(emb.key_name, 'embedder');
  assert.equal(emb.status, 200);
  assert.equal(emb.stream, false);
  assert.equal(emb.prompt_tokens, 8);
  assert.equal(emb.completion_tokens, 0);
  assert.equal(emb.total_tokens, 8);
  assertCost(emb.cost, (8 * 0.02) / 1e6);

  const img = recordOf(records, 'img-1');
  assert.equal(img.endpoint, '/images/generations');
  assert.equal(img.model_asked, 'gpt-image-1');
  assert.equal(img.prompt_tokens, 50);
  assert.equal(img.completion_tokens, 4160);
  assert.equal(img.total_tokens, 4210);
  assertCost(img.cost, (50 * 5 + 4160 * 40) / 1e6);
});
