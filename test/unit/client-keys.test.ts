import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { test } from 'node:test';
import { createClientKeyCheck, isModelAllowed, type ClientGrant } from '../../src/auth/client-keys.js';
import { checkClientKeys, clientKeySchema, clientKeysSchema, CLIENT_KEY_FIELDS, type ClientKeySpec } from '../../src/auth/client-keys-schema.js';
import { RelayError } from '../../src/errors.js';
import { fingerprint } from '../../src/secret.js';

const ALICE: ClientKeySpec = { name: 'alice', key: 'sk-alice-0123456789', models: ['gpt-4o*', 'o3-mini'] };
const BOB: ClientKeySpec = { name: 'bob', key: 'sk-bob-abcdef' };

function parse(entry: unknown): ClientKeySpec {
  const r = clientKeySchema.safeParse(entry);
  assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues));
  return r.data;
}

function problems(entry: unknown): string[] {
  const r = clientKeySchema.safeParse(entry);
  assert.ok(!r.success, `expected ${JSON.stringify(entry)} to be rejected`);
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function rejection(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RelayError, `expected a RelayError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the key to be refused');
}

// ---- schema ----

test('a plain string entry keeps working and is named key-<fingerprint>', () => {
  assert.deepEqual(parse('sk-plain'), { name: `key-${fingerprint('sk-plain')}`, key: 'sk-plain' });
});

test('an object entry keeps every limit', () => {
  const spec = parse({
    name: 'team-a',
    key: 'sk-team-a',
    models: ['gpt-4o*'],
    rpm: 60,
    tpm: 100000,
    max_concurrency: 4,
    budget: { cost: 20, period: 'month' },
    expires_at: '2026-01-31',
  });
  assert.deepEqual(spec, {
    name: 'team-a',
    key: 'sk-team-a',
    models: ['gpt-4o*'],
    rpm: 60,
    tpm: 100000,
    max_concurrency: 4,
    budget: { cost: 20, period: 'month' },
    expires_at: Date.UTC(2026, 0, 31),
  });
});

test('YAML empty values (null) mean "not set"', () => {
  assert.deepEqual(parse({ name: 'n', key: 'k', rpm: null, models: null, budget: null, expires_at: null }), { name: 'n', key: 'k' });
});

test('expires_at reads dates, date-times (UTC without an offset), offsets and YAML timestamps', () => {
  const at = (v: unknown): number | undefined => parse({ name: 'n', key: 'k', expires_at: v }).expires_at;
  assert.equal(at('2026-01-31'), Date.UTC(2026, 0, 31));
  assert.equal(at('2026-01-31T18:30:00Z'), Date.UTC(2026, 0, 31, 18, 30));
  assert.equal(at('2026-01-31T18:30'), Date.UTC(2026, 0, 31, 18, 30));
  assert.equal(at('2026-01-31 18:30:15.5'), Date.UTC(2026, 0, 31, 18, 30, 15, 500));
  assert.equal(at('2026-01-31T18:30:00+02:00'), Date.UTC(2026, 0, 31, 16, 30));
  assert.equal(at(new Date(Date.UTC(2026, 5, 1))), Date.UTC(2026, 5, 1));
  for (const bad of ['2026-02-30', 'tomorrow', '31/01/2026', 20260131, '']) {
    assert.match(problems({ name: 'n', key: 'k', expires_at: bad }).join('\n'), /^expires_at: expected an ISO date/, String(bad));
  }
});

test('rejects bad limits with the field named', () => {
  assert.match(problems({ name: 'n', key: 'k', rpm: 0 })[0] ?? '', /^rpm: expected a whole number greater than 0/);
  assert.match(problems({ name: 'n', key: 'k', tpm: 1.5 })[0] ?? '', /^tpm: expected a whole number/);
  assert.match(problems({ name: 'n', key: 'k', max_concurrency: -1 })[0] ?? '', /^max_concurrency: /);
  assert.match(problems({ name: 'n', key: 'k', rpm: '60' })[0] ?? '', /^rpm: /);
  assert.match(problems({ name: 'n', key: 'k', models: [] })[0] ?? '', /^models: an empty list allows no model/);
  assert.match(problems({ name: 'n', key: '' })[0] ?? '', /^key: an access key must not be empty/);
  assert.match(problems('')[0] ?? '', /^key: an access key must not be empty/);
  assert.match(problems({ key: 'k' })[0] ?? '', /^name: /);
  assert.match(problems({ name: '  ', key: 'k' })[0] ?? '', /^name: a key needs a name/);
  assert.equal(problems({ name: 'n', key: 'k', rmp: 5 })[0], ': Unrecognized key: "rmp"');
  assert.ok(CLIENT_KEY_FIELDS.includes('rpm'), 'the loader can suggest "rpm" for "rmp"');
});

test('a budget needs a period and exactly one of tokens or cost', () => {
  assert.deepEqual(parse({ name: 'n', key: 'k', budget: { tokens: 1000, period: 'day' } }).budget, { tokens: 1000, period: 'day' });
  assert.match(problems({ name: 'n', key: 'k', budget: { tokens: 1, cost: 1, period: 'day' } })[0] ?? '', /^budget: set exactly one of tokens or cost/);
  assert.match(problems({ name: 'n', key: 'k', budget: { period: 'day' } })[0] ?? '', /^budget: set exactly one/);
  assert.match(problems({ name: 'n', key: 'k', budget: { cost: 5, period: 'week' } })[0] ?? '', /^budget\.period: /);
  assert.match(problems({ name: 'n', key: 'k', budget: { cost: 0, period: 'day' } })[0] ?? '', /^budget\.cost: expected a number greater than 0/);
});

test('names and keys must be unique; the messages name the indexes and never the key', () => {
  const specs = [ALICE, BOB, { name: 'alice', key: 'sk-other' }, { name: 'carol', key: BOB.key }];
  const messages = checkClientKeys(specs);
  assert.deepEqual(messages, [
    'auth.keys.2.name: "alice" is already the name of auth.keys.0',
    'auth.keys.3.key: the same key as auth.keys.1: each client needs its own key',
  ]);
  const r = clientKeysSchema.safeParse([ALICE, 'sk-x', 'sk-x']);
  assert.ok(!r.success);
  assert.deepEqual(r.error.issues.map((i) => i.path), [[2, 'name'], [2, 'key']]);
  for (const m of [...messages, ...r.error.issues.map((i) => i.message)]) {
    assert.ok(!m.includes('sk-'), `no key in ${m}`);
  }
  assert.deepEqual(checkClientKeys([ALICE, BOB]), []);
});

// ---- the check ----

test('accepts the key as Authorization: Bearer, x-api-key or api-key, and says which header carried it', () => {
  const check = createClientKeyCheck([ALICE, BOB]);
  const cases: [Record<string, string>, string, ClientGrant['header']][] = [
    [{ authorization: `Bearer ${ALICE.key}` }, 'alice', 'authorization'],
    [{ authorization: `bearer   ${BOB.key} ` }, 'bob', 'authorization'],
    [{ 'x-api-key': ALICE.key }, 'alice', 'x-api-key'],
    [{ 'api-key': ` ${BOB.key} ` }, 'bob', 'api-key'],
    [{ authorization: 'Bearer sk-wrong', 'x-api-key': BOB.key }, 'bob', 'x-api-key'],
  ];
  for (const [headers, name, header] of cases) {
    const grant = check(headers);
    assert.equal(grant.name, name);
    assert.equal(grant.header, header);
    assert.equal(grant.spec, name === 'alice' ? ALICE : BOB);
  }
});

test('a missing, malformed or unknown key is a 401 invalid_api_key that does not echo the key', () => {
  const check = createClientKeyCheck([ALICE]);
  for (const headers of [{}, { authorization: ALICE.key }, { authorization: 'Basic abc' }, { 'x-api-key': 'sk-unknown-key' }, { 'api-key': '' }]) {
    const err = rejection(() => check(headers));
    assert.equal(err.code, 'invalid_api_key');
    assert.equal(err.status, 401);
    assert.ok(!err.message.includes('sk-'), err.message);
  }
});

test('an expired key is refused with a message saying when it expired', () => {
  let now = Date.UTC(2026, 0, 30, 23, 59, 59, 999);
  const spec: ClientKeySpec = { name: 'temp', key: 'sk-temp', expires_at: Date.UTC(2026, 0, 31) };
  const check = createClientKeyCheck([spec, BOB], () => now);
  assert.equal(check({ 'x-api-key': 'sk-temp' }).name, 'temp');
  now = Date.UTC(2026, 0, 31);
  const err = rejection(() => check({ 'x-api-key': 'sk-temp' }));
  assert.equal(err.code, 'invalid_api_key');
  assert.equal(err.status, 401);
  assert.equal(err.message, 'This key expired at 2026-01-31T00:00:00.000Z.');
  assert.equal(check({ 'x-api-key': BOB.key }).name, 'bob', 'other keys still work');
});

test('compares a presented key with every configured key, whatever its length or where it matches', () => {
  const specs = Array.from({ length: 5 }, (_, i): ClientKeySpec => ({ name: `k${i}`, key: `sk-key-${i}-${'x'.repeat(i * 10)}` }));
  const check = createClientKeyCheck(specs);
  const original = crypto.timingSafeEqual;
  const lengths: number[] = [];
  crypto.timingSafeEqual = (a, b) => {
    lengths.push(a.byteLength, b.byteLength);
    return original(a, b);
  };
  syncBuiltinESMExports();
  try {
    for (const presented of [specs[0]?.key, specs[4]?.key, 'short', 'y'.repeat(500)]) {
      lengths.length = 0;
      try {
        check({ 'x-api-key': presented ?? '' });
      } catch {
        // unknown keys are refused: the comparisons are what this test counts
      }
      assert.equal(lengths.length, 2 * specs.length, `every key is compared for ${presented?.length ?? 0} chars`);
      assert.ok(lengths.every((n) => n === 32), 'digests of one length, whatever the key length');
    }
  } finally {
    crypto.timingSafeEqual = original;
    syncBuiltinESMExports();
  }
});

test('model allow-lists take names and globs; no list allows every model; a request without a model passes', () => {
  const check = createClientKeyCheck([ALICE, BOB]);
  const alice = check({ 'x-api-key': ALICE.key });
  const bob = check({ 'x-api-key': BOB.key });
  assert.equal(isModelAllowed(alice, 'gpt-4o'), true);
  assert.equal(isModelAllowed(alice, 'gpt-4o-mini-2024-07-18'), true);
  assert.equal(isModelAllowed(alice, 'o3-mini'), true);
  assert.equal(isModelAllowed(alice, 'o3-mini-high'), false);
  assert.equal(isModelAllowed(alice, 'gpt-4'), false);
  assert.equal(isModelAllowed(alice, 'GPT-4o'), false, 'model names are case-sensitive');
  assert.equal(isModelAllowed(alice, undefined), true);
  assert.equal(isModelAllowed(bob, 'anything-at-all'), true);
});

test('grants are built once: the same key and header give the same object', () => {
  const check = createClientKeyCheck([ALICE]);
  assert.equal(check({ 'x-api-key': ALICE.key }), check({ 'x-api-key': ALICE.key }));
});
