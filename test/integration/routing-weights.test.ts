import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MockUpstream } from '../helpers/mock-upstream.js';
import { closeAll, contentOf, postChat, startLabelled } from '../helpers/routing.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// Weights share traffic among backends of one priority: 3:1 gives the first about 75 %.

let heavy: MockUpstream;
let light: MockUpstream;
let relay: RunningRelay;

before(async () => {
  heavy = await startLabelled('heavy');
  light = await startLabelled('light');
  relay = await startRelay({
    log: { level: 'warn' },
    backends: [
      { name: 'heavy', base_url: heavy.url, models: ['gpt-4o'], weight: 3 },
      { name: 'light', base_url: light.url, models: ['gpt-4o'], weight: 1 },
    ],
  });
});
after(() => closeAll(relay, heavy, light));

test('a 3:1 weight sends about 75 % of 400 requests to the heavier backend (±8 points)', { timeout: 20_000 }, async () => {
  const total = 400;
  const served = { heavy: 0, light: 0 };
  for (let sent = 0; sent < total; sent += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => postChat(relay, 'gpt-4o')));
    for (const answer of batch) {
      assert.equal(answer.status, 200);
      const label = contentOf(answer) as keyof typeof served;
      assert.equal(answer.headers.get('x-relay-backend'), label, 'the header names the backend that answered');
      served[label]++;
    }
  }
  assert.equal(served.heavy + served.light, total);
  assert.equal(heavy.requests.length, served.heavy);
  assert.equal(light.requests.length, served.light);
  const share = (served.heavy / total) * 100;
  assert.ok(Math.abs(share - 75) <= 8, `heavy served ${share.toFixed(1)} % (${served.heavy}/${total}), expected 75 ± 8`);
  assert.ok(served.light > 0, 'the lighter backend is used too');
});
