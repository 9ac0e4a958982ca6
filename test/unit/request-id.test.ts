import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRequestId, toRequestId } from '../../src/http/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('newRequestId makes version 4 UUIDs, all different, across several draws of random bytes', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1_000; i++) {
    const id = newRequestId();
    assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 1_000);
  // Every hex digit shows up in every free position: the bytes are random, not stuck.
  const digits = new Set([...seen].join('').replaceAll('-', ''));
  assert.equal(digits.size, 16);
});

test('toRequestId keeps a sane client id and replaces anything else with a new UUID', () => {
  assert.equal(toRequestId({ 'x-request-id': 'trace-42.a:b@c/d+e=f' }), 'trace-42.a:b@c/d+e=f');
  for (const bad of [undefined, '', 'has space', 'x'.repeat(201), 'new\nline']) {
    assert.match(toRequestId(bad === undefined ? {} : { 'x-request-id': bad }), UUID_V4);
  }
});
