import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Health } from '../../src/routing/health.js';

function setup(keyCounts: readonly number[] = [1], threshold = 3) {
  const clock = { t: 1_000_000 };
  const health = new Health(keyCounts, { failureThreshold: threshold, cooldownMs: 30_000, badKeyCooldownMs: 600_000, now: () => clock.t });
  return { clock, health };
}

test('closed → open after failure_threshold failures in a row; a success in between resets the count', () => {
  const { health } = setup();
  assert.equal(health.circuit(0), 'closed');
  assert.equal(health.failed(0), false);
  assert.equal(health.failed(0), false);
  health.succeeded(0);
  assert.equal(health.failed(0), false);
  assert.equal(health.failed(0), false);
  assert.equal(health.circuit(0), 'closed');
  assert.equal(health.usable(0), true);
  assert.equal(health.failed(0), true, 'the third failure in a row opens the circuit');
  assert.equal(health.circuit(0), 'open');
  assert.equal(health.usable(0), false);
});

test('a failure while already open does not report opening again, and extends the cooldown', () => {
  const { clock, health } = setup([1], 1);
  assert.equal(health.failed(0), true);
  assert.equal(health.outUntil(0, 0), 1_030_000);
  clock.t += 10_000;
  assert.equal(health.failed(0), false, 'an in-flight request failing late is not a new opening');
  assert.equal(health.outUntil(0, 0), 1_040_000);
});

test('open → half-open after the cooldown; one probe at a time; its success closes', () => {
  const { clock, health } = setup([1], 1);
  health.failed(0);
  clock.t += 29_999;
  assert.equal(health.circuit(0), 'open');
  assert.equal(health.usable(0), false);
  assert.equal(health.outUntil(0, 0), clock.t + 1);
  clock.t += 1;
  assert.equal(health.circuit(0), 'half-open');
  assert.equal(health.usable(0), true);
  assert.equal(health.outUntil(0, 0), 0);
  health.begin(0);
  assert.equal(health.usable(0), false, 'a second request waits for the probe');
  assert.equal(health.circuit(0), 'half-open');
  health.succeeded(0);
  assert.equal(health.circuit(0), 'closed');
  assert.equal(health.usable(0), true);
  assert.equal(health.outUntil(0, 0), 0);
  // Closed again: the count starts over (threshold 1 → the next failure opens).
  assert.equal(health.failed(0), true);
});

test('half-open: the probe failing opens the circuit again for a full cooldown', () => {
  const { clock, health } = setup([1], 3);
  health.failed(0);
  health.failed(0);
  health.failed(0);
  clock.t += 30_000;
  health.begin(0);
  assert.equal(health.failed(0), true, 'a failed probe re-opens');
  assert.equal(health.circuit(0), 'open');
  assert.equal(health.outUntil(0, 0), clock.t + 30_000);
  clock.t += 30_000;
  assert.equal(health.circuit(0), 'half-open');
  assert.equal(health.usable(0), true, 'a new probe may go');
});

test('half-open: an abandoned probe gives its slot back', () => {
  const { clock, health } = setup([1], 1);
  health.failed(0);
  clock.t += 30_000;
  health.begin(0);
  assert.equal(health.usable(0), false);
  health.abandoned(0);
  assert.equal(health.usable(0), true);
  assert.equal(health.circuit(0), 'half-open');
});

test('begin on a closed backend does not mark a probe', () => {
  const { health } = setup([1]);
  health.begin(0);
  assert.equal(health.usable(0), true);
  health.begin(0);
  assert.equal(health.usable(0), true);
});

test('throttled: the key rests for the asked wait, else the cooldown; other keys and the circuit are untouched', () => {
  const { clock, health } = setup([3]);
  health.throttled(0, 1, 5_000);
  assert.equal(health.keyUsable(0, 1), false);
  assert.equal(health.keyUsable(0, 0), true);
  assert.equal(health.keyUsable(0, 2), true);
  assert.equal(health.usable(0), true);
  assert.equal(health.circuit(0), 'closed');
  assert.equal(health.outUntil(0, 1), clock.t + 5_000);
  assert.equal(health.outUntil(0, 0), 0);
  health.throttled(0, 2, undefined);
  assert.equal(health.outUntil(0, 2), clock.t + 30_000);
  clock.t += 5_000;
  assert.equal(health.keyUsable(0, 1), true);
  assert.equal(health.outUntil(0, 1), 0);
});

test('throttled never shortens a longer rest already set', () => {
  const { clock, health } = setup([1]);
  health.rejected(0, 0);
  health.throttled(0, 0, 1_000);
  assert.equal(health.outUntil(0, 0), clock.t + 600_000);
});

test('rejected (401/403): the key is out for bad_key_cooldown', () => {
  const { clock, health } = setup([2]);
  health.rejected(0, 0);
  assert.equal(health.keyUsable(0, 0), false);
  assert.equal(health.keyUsable(0, 1), true);
  clock.t += 599_999;
  assert.equal(health.keyUsable(0, 0), false);
  clock.t += 1;
  assert.equal(health.keyUsable(0, 0), true);
});

test('outUntil: the later of the circuit and the key', () => {
  const { clock, health } = setup([1], 1);
  health.throttled(0, 0, 60_000);
  health.failed(0);
  assert.equal(health.outUntil(0, 0), clock.t + 60_000);
  clock.t += 60_000;
  assert.equal(health.outUntil(0, 0), 0);
});

test('backends are independent; out-of-range keys are ignored; an unknown backend throws', () => {
  const { health } = setup([1, 1], 1);
  health.failed(0);
  assert.equal(health.usable(0), false);
  assert.equal(health.usable(1), true);
  health.throttled(1, 7, 1_000);
  health.rejected(1, -1);
  assert.equal(health.keyUsable(1, 0), true);
  assert.throws(() => health.usable(2), RangeError);
});

test('a backend with no keys still has one (pass-through) key slot', () => {
  const { health } = setup([0]);
  health.throttled(0, 0, 1_000);
  assert.equal(health.keyUsable(0, 0), false);
});
