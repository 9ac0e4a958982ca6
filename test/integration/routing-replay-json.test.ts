import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { closeAll, contentOf, postChat, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// A retried JSON body is sent again exactly as the client wrote it: key order, spacing, escapes,
// number spellings and unknown fields survive; only the model value changes, and only for a backend
// with its own mapping.

const BODY = Buffer.from(
  '{\n  "messages" : [ {"role":"user","content":"caf\\u00e9 \\"quoted\\" 😀 \\ud83d\\ude00"} ],\n' +
    '  "model":   "gpt-4o",\t"temperature": 0.70, "seed": 12345678901234567890, "x_unknown": {"nested": [1.0e3, null, true]}\n}\n',
  'utf8',
);

let failing: MockUpstream;
let plain: MockUpstream;
let mapped: MockUpstream;
let relay: RunningRelay;
let mappingRelay: RunningRelay;

before(async () => {
  failing = await startMockUpstream(replyJson(503, { error: { message: 'busy', type: 'server_error' } }));
  plain = await startLabelled('plain');
  mapped = await startLabelled('mapped');
  relay = await startRelay({
    retry: { backoff: 0 },
    health: { failure_threshold: 100 },
    backends: [
      { name: 'failing', base_url: failing.url, priority: 0 },
      { name: 'plain', base_url: plain.url, priority: 1 },
    ],
  });
  mappingRelay = await startRelay({
    retry: { backoff: 0 },
    health: { failure_threshold: 100 },
    backends: [
      { name: 'failing', base_url: failing.url, priority: 0 },
      { name: 'mapped', base_url: mapped.url, priority: 1, mapping: { 'gpt-4o': 'azure-gpt-4o-prod' } },
    ],
  });
});
after(() => closeAll(relay, mappingRelay, failing, plain, mapped));

test('a retried JSON body arrives byte-identical at the second backend', { timeout: 10_000 }, async () => {
  const answer = await postChat(relay, 'gpt-4o', { body: BODY.toString('utf8') });
  assert.equal(answer.status, 200);
  assert.equal(contentOf(answer), 'plain');
  assert.equal(answer.headers.get('x-relay-attempts'), '2');
  const first = failing.requests.at(-1);
  const second = plain.requests.at(-1);
  assert.ok(first && second);
  assert.ok(first.body.equals(BODY), 'the first try got the body as sent');
  assert.ok(second.body.equals(BODY), `the retry got the body as sent:\n${second.body.toString()}`);
  assert.equal(second.headers['content-length'], String(BODY.length));
});

test("a retry to a backend with its own mapping changes the model value only", { timeout: 10_000 }, async () => {
  const answer = await postChat(mappingRelay, 'gpt-4o', { body: BODY.toString('utf8') });
  assert.equal(answer.status, 200);
  const first = failing.requests.at(-1);
  const second = mapped.requests.at(-1);
  assert.ok(first && second);
  assert.ok(first.body.equals(BODY), 'the first backend (no mapping) got the body as sent');
  const expected = Buffer.from(BODY.toString('utf8').replace('"model":   "gpt-4o"', '"model":   "azure-gpt-4o-prod"'), 'utf8');
  assert.equal(second.body.toString('utf8'), expected.toString('utf8'));
  assert.equal(second.headers['content-length'], String(expected.length));
});
