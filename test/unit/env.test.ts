import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandEnv } from '../../src/config/env.js';

const CASES: readonly { name: string; input: unknown; env: Record<string, string>; value: unknown }[] = [
  { name: 'a whole reference', input: { k: '${A}' }, env: { A: 'x' }, value: { k: 'x' } },
  { name: 'references inside text', input: { k: 'http://${H}:${P}/v1' }, env: { H: 'h', P: '80' }, value: { k: 'http://h:80/v1' } },
  { name: 'a default when missing', input: { k: '${A:-fallback}' }, env: {}, value: { k: 'fallback' } },
  { name: 'a default when empty', input: { k: '${A:-fallback}' }, env: { A: '' }, value: { k: 'fallback' } },
  { name: 'an empty default', input: { k: '${A:-}' }, env: {}, value: { k: '' } },
  { name: 'a default containing a colon and dashes', input: { k: '${U:-http://a:1/-x}' }, env: {}, value: { k: 'http://a:1/-x' } },
  { name: 'a set empty variable without a default', input: { k: '${A}' }, env: { A: '' }, value: { k: '' } },
  { name: 'an escaped literal', input: { k: '$${A}' }, env: { A: 'x' }, value: { k: '${A}' } },
  { name: 'a lone dollar', input: { k: 'co$t $A' }, env: { A: 'x' }, value: { k: 'co$t $A' } },
  { name: 'a whole numeric reference as a number', input: { port: '${P:-8080}' }, env: {}, value: { port: 8080 } },
  { name: 'a whole boolean reference as a boolean', input: { on: '${ON}' }, env: { ON: 'true' }, value: { on: true } },
  { name: 'numeric text around a reference as a string', input: { k: 'v${N}' }, env: { N: '1' }, value: { k: 'v1' } },
  { name: 'lists and nesting', input: { a: { keys: ['${K1}', 'lit'] } }, env: { K1: 'one' }, value: { a: { keys: ['one', 'lit'] } } },
  { name: 'non-strings untouched', input: { n: 1, b: false, z: null }, env: {}, value: { n: 1, b: false, z: null } },
];

for (const c of CASES) {
  test(`expands ${c.name}`, () => {
    const { value, problems } = expandEnv(c.input, c.env);
    assert.deepEqual(problems, []);
    assert.deepEqual(value, c.value);
  });
}

test('reports each missing variable with the key path that referenced it', () => {
  const { problems } = expandEnv({ backend: { api_key: '${KEY}' }, auth: { keys: ['ok', 'x-${OTHER}'] } }, {});
  assert.deepEqual(problems, [
    { path: 'backend.api_key', variable: 'KEY' },
    { path: 'auth.keys[1]', variable: 'OTHER' },
  ]);
});

test('does not read inherited properties of the environment object', () => {
  const { problems } = expandEnv({ k: '${toString}' }, {});
  assert.deepEqual(problems, [{ path: 'k', variable: 'toString' }]);
});

test('keeps a __proto__ key as an own property of the expanded tree', () => {
  const tree = JSON.parse('{"mapping":{"__proto__":"${M}"}}') as unknown;
  const { value } = expandEnv(tree, { M: 'm' });
  const mapping = (value as { mapping: Record<string, unknown> }).mapping;
  assert.equal(Object.hasOwn(mapping, '__proto__'), true);
  assert.equal(mapping['__proto__'], 'm');
  assert.equal(Object.getPrototypeOf(mapping), Object.prototype);
});
