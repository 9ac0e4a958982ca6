import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { closeAll, contentOf, eventually, postChat, replyAs, startLabelled } from '../helpers/routing.js';
import { startRelay } from '../helpers/start-relay.js';

// Passive health: a backend failing `health.failure_threshold` times in a row is taken out for
// `health.cooldown` (0.5 s here); then one request probes it: a success brings it back, a failure reopens it.

function unavailable(_req: unknown, res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"down","type":"server_error"}}');
}

async function setup() {
  let failing = true;
  const flaky = await startMockUpstream((req, res) => (failing ? unavailable(req, res) : replyAs('flaky')(req, res, undefined as never)));
  const steady = await startLabelled('steady');
  const relay = await startRelay({
    retry: { backoff: 0, max_attempts: 2 },
    health: { failure_threshold: 2, cooldown: 0.5 },
    backends: [
      { name: 'flaky', base_url: flaky.url, priority: 0 },
      { name: 'steady', base_url: steady.url, priority: 1 },
    ],
  });
  const circuit = (): string => relay.relay.context.health.circuit(0);
  return { flaky, steady, relay, circuit, recover: () => (failing = false) };
}

test('after failure_threshold failures the backend is skipped, then probed after the cooldown and used again', { timeout: 10_000 }, async () => {
  const { flaky, steady, relay, circuit, recover } = await setup();
  try {
    // The circuit opens during the second request, after `opening`: it is surely open until opening + 500 ms.
    let opening = 0;
    for (let i = 0; i < 2; i++) {
      opening = Date.now();
      const answer = await postChat(relay, 'gpt-4o');
      assert.equal(contentOf(answer), 'steady');
      assert.equal(answer.headers.get('x-relay-attempts'), '2');
    }
    assert.equal(flaky.requests.length, 2);
    const opened = relay.logs.find((l) => l.level === 40 && l.backend === 'flaky' && typeof l.msg === 'string' && l.msg.includes('taken out'));
    assert.ok(opened, 'a warn line says the backend was taken out');

    // During the cooldown the failing backend gets nothing: one try, on the other backend.
    for (let i = 0; i < 4; i++) {
      const answer = await postChat(relay, 'gpt-4o');
      assert.equal(contentOf(answer), 'steady');
      if (Date.now() - opening < 480) assert.equal(answer.headers.get('x-relay-attempts'), '1');
    }
    if (Date.now() - opening < 480) assert.equal(flaky.requests.length, 2, 'skipped during the cooldown');

    recover();
    await eventually(() => circuit() !== 'open', 2_000, 'the cooldown to end');
    const probe = await postChat(relay, 'gpt-4o');
    assert.equal(contentOf(probe), 'flaky', 'the probe goes to the recovered backend');
    assert.equal(probe.headers.get('x-relay-attempts'), '1');
    assert.equal(circuit(), 'closed');
    const steadyBefore = steady.requests.length;
    for (let i = 0; i < 5; i++) assert.equal(contentOf(await postChat(relay, 'gpt-4o')), 'flaky');
    assert.equal(steady.requests.length, steadyBefore, 'traffic is back on the higher tier');
  } finally {
    await closeAll(relay, flaky, steady);
  }
});

test('a failed probe takes the backend out again for another cooldown', { timeout: 10_000 }, async () => {
  const { flaky, steady, relay, circuit } = await setup();
  try {
    await postChat(relay, 'gpt-4o');
    await postChat(relay, 'gpt-4o');
    assert.notEqual(circuit(), 'closed');
    await eventually(() => circuit() === 'half-open', 2_000, 'the cooldown to end');
    const probing = Date.now();
    const probe = await postChat(relay, 'gpt-4o');
    assert.equal(contentOf(probe), 'steady');
    assert.equal(probe.headers.get('x-relay-attempts'), '2', 'the probe went to the failing backend first');
    assert.equal(flaky.requests.length, 3, 'one probe');
    assert.notEqual(circuit(), 'closed', 'a failed probe does not close the circuit');
    if (Date.now() - probing < 480) assert.equal(circuit(), 'open', 'one failed probe is enough to reopen');
    const next = await postChat(relay, 'gpt-4o');
    if (circuit() === 'open') assert.equal(flaky.requests.length, 3, 'skipped again');
    assert.equal(contentOf(next), 'steady');
  } finally {
    await closeAll(relay, flaky, steady);
  }
});

test('concurrent requests to a half-open backend send one probe; the others go elsewhere', { timeout: 10_000 }, async () => {
  const { flaky, steady, relay, circuit, recover } = await setup();
  try {
    await postChat(relay, 'gpt-4o');
    await postChat(relay, 'gpt-4o');
    // The probe will hang until released, so the others arrive while it is in flight.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    flaky.handle(async (req, res) => {
      await held;
      replyAs('flaky')(req, res, undefined as never);
    });
    recover();
    await eventually(() => circuit() === 'half-open', 2_000, 'the cooldown to end');
    const before = flaky.requests.length;
    const probe = postChat(relay, 'gpt-4o');
    await eventually(() => flaky.requests.length > before, 2_000, 'the probe to reach the backend', 5);
    const others = await Promise.all(Array.from({ length: 5 }, () => postChat(relay, 'gpt-4o')));
    for (const o of others) assert.equal(contentOf(o), 'steady');
    release();
    assert.equal(contentOf(await probe), 'flaky');
    assert.equal(flaky.requests.length, before + 1, 'a single probe');
    assert.equal(circuit(), 'closed');
  } finally {
    await closeAll(relay, flaky, steady);
  }
});

test('a probe answered 429 does not leave the backend out for good', { timeout: 10_000 }, async () => {
  const { flaky, steady, relay, circuit } = await setup();
  try {
    await postChat(relay, 'gpt-4o');
    await postChat(relay, 'gpt-4o');
    assert.notEqual(circuit(), 'closed');
    // The backend is alive again but rate-limits the probe (retry-after: 0: the key need not rest).
    let throttled = true;
    flaky.handle((req, res) => {
      if (throttled) {
        throttled = false;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
        res.end('{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}');
        return;
      }
      replyAs('flaky')(req, res, undefined as never);
    });
    await eventually(() => circuit() === 'half-open', 2_000, 'the cooldown to end');
    const probe = await postChat(relay, 'gpt-4o');
    assert.equal(contentOf(probe), 'steady', 'the throttled probe was retried on the other backend');
    assert.equal(flaky.requests.length, 3);
    // Whatever the verdict on a 429 probe (closed, or another cooldown), the backend must come back.
    await eventually(async () => contentOf(await postChat(relay, 'gpt-4o')) === 'flaky', 1_500, 'the backend to serve again after its probe got a 429', 50);
  } finally {
    await closeAll(relay, flaky, steady);
  }
});
