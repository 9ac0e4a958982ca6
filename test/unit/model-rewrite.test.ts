import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelayError } from '../../src/errors.js';
import { scanJson } from '../../src/proxy/json-scan.js';
import { createModelResolver } from '../../src/proxy/model-policy.js';
import { rewriteJsonModel } from '../../src/proxy/model-rewrite.js';

const mapping = createModelResolver({ override: '', mapping: { 'gpt-4': 'gpt-4-turbo', 'gpt-3.5-turbo': 'gpt-4', café: 'modèle-ü' } });
const override = createModelResolver({ override: 'forced-model', mapping: { 'gpt-4': 'gpt-4-turbo' } });
const identity = createModelResolver({ override: '', mapping: {} });

/** How many top-level `model` keys a body has, counted by the scanner (JSON.parse would hide duplicates). */
function countModelKeys(body: Buffer): number {
  const scan = scanJson(body);
  assert.ok(scan.ok, 'the rewritten body is valid JSON');
  return scan.members.filter((m) => m.key === 'model').length;
}

interface Case {
  readonly name: string;
  readonly input: string;
  readonly expected: string;
  readonly asked: string | undefined;
  readonly sent: string | undefined;
}

const REWRITES: readonly Case[] = [
  {
    name: 'replaces only the model value and keeps key order, spacing, numbers and escapes',
    input: '{ "z": {"n": [1.50, 2e3, -0]},\n  "model" : "gpt-4", "messages":[{"role":"user","content":"caf\\u00e9 \\"q\\" \\/"}], "x": 1E+2 }',
    expected: '{ "z": {"n": [1.50, 2e3, -0]},\n  "model" : "gpt-4-turbo", "messages":[{"role":"user","content":"caf\\u00e9 \\"q\\" \\/"}], "x": 1E+2 }',
    asked: 'gpt-4',
    sent: 'gpt-4-turbo',
  },
  {
    name: 'rewrites only the top-level model, not one nested in messages or tools',
    input: '{"messages":[{"role":"user","model":"gpt-4","content":"model"}],"tools":[{"type":"function","function":{"name":"f","model":"gpt-4"}}],"model":"gpt-4","metadata":{"model":"gpt-4"}}',
    expected: '{"messages":[{"role":"user","model":"gpt-4","content":"model"}],"tools":[{"type":"function","function":{"name":"f","model":"gpt-4"}}],"model":"gpt-4-turbo","metadata":{"model":"gpt-4"}}',
    asked: 'gpt-4',
    sent: 'gpt-4-turbo',
  },
  {
    name: 'recognizes the escaped key spelling "mod\\u0065l" and keeps that spelling',
    input: '{"mod\\u0065l":"gpt-4","stream":false}',
    expected: '{"mod\\u0065l":"gpt-4-turbo","stream":false}',
    asked: 'gpt-4',
    sent: 'gpt-4-turbo',
  },
  {
    name: 'maps an escaped value "gpt\\u002d4" by its decoded name',
    input: '{"model":"gpt\\u002d4"}',
    expected: '{"model":"gpt-4-turbo"}',
    asked: 'gpt-4',
    sent: 'gpt-4-turbo',
  },
  {
    name: 'writes a non-ASCII target name as valid UTF-8 JSON',
    input: '{"model":"café","n":1}',
    expected: '{"model":"modèle-ü","n":1}',
    asked: 'café',
    sent: 'modèle-ü',
  },
  {
    name: 'keeps a __proto__ member byte for byte while rewriting the model',
    input: '{"__proto__":{"model":"gpt-4","polluted":true},"model":"gpt-4","constructor":{"prototype":{}}}',
    expected: '{"__proto__":{"model":"gpt-4","polluted":true},"model":"gpt-4-turbo","constructor":{"prototype":{}}}',
    asked: 'gpt-4',
    sent: 'gpt-4-turbo',
  },
  {
    name: 'rewrites a model that follows 100,000 nested arrays',
    input: `{"deep":${'['.repeat(100_000)}${']'.repeat(100_000)},"model":"gpt-4"}`,
    expected: `{"deep":${'['.repeat(100_000)}${']'.repeat(100_000)},"model":"gpt-4-turbo"}`,
    asked: 'gpt-4',
    sent: 'gpt-4-turbo',
  },
];

for (const c of REWRITES) {
  test(c.name, () => {
    const edit = rewriteJsonModel(Buffer.from(c.input), mapping, true);
    assert.equal(edit.body.toString('utf8'), c.expected);
    assert.equal(edit.asked, c.asked);
    assert.equal(edit.sent, c.sent);
    assert.equal(countModelKeys(edit.body), 1);
  });
}

const UNCHANGED: readonly [string, string][] = [
  ['an unknown model name', '{"model":"o3-mini","messages":[]}'],
  ['a body without a model', '{"input":"hello","encoding_format":"float"}'],
  ['a model only nested in messages', '{"messages":[{"model":"gpt-4"}]}'],
  ['a top-level array', '[{"model":"gpt-4"}]'],
  ['a top-level string', '"gpt-4"'],
  ['a top-level number', '4'],
  ['a model named __proto__', '{"model":"__proto__"}'],
  ['a model named constructor', '{"model":"constructor"}'],
  ['a model named toString', '{"model":"toString"}'],
  ['a numeric model', '{"model":4}'],
  ['a null model', '{"model":null}'],
  ['an object model', '{"model":{"name":"gpt-4"}}'],
  ['an array model', '{"model":["gpt-4"]}'],
  ['a boolean model', '{"model":true}'],
];

for (const [name, input] of UNCHANGED) {
  test(`returns the same Buffer instance for ${name} when mapping`, () => {
    const body = Buffer.from(input);
    const edit = rewriteJsonModel(body, mapping, true);
    assert.equal(edit.body, body, 'the very same Buffer');
    assert.equal(edit.body.toString(), input);
  });
}

test('returns the same Buffer instance when the policy is the identity', () => {
  const body = Buffer.from('{"model":"gpt-4","messages":[]}');
  const edit = rewriteJsonModel(body, identity, true);
  assert.equal(edit.body, body);
  assert.equal(edit.asked, 'gpt-4');
  assert.equal(edit.sent, 'gpt-4');
});

test('reports a non-string model as not asked when nothing replaces it', () => {
  const edit = rewriteJsonModel(Buffer.from('{"model":42}'), mapping, true);
  assert.equal(edit.asked, undefined);
  assert.equal(edit.sent, undefined);
});

const ODD_TYPES: readonly [string, string][] = [
  ['a number', '42'],
  ['a float', '-1.5e3'],
  ['null', 'null'],
  ['an object', '{"model":"gpt-4","x":[1]}'],
  ['an array', '["gpt-4", {"a": "b"}]'],
  ['a boolean', 'false'],
];

for (const [kind, value] of ODD_TYPES) {
  test(`replaces ${kind} model with the override string and keeps every other byte`, () => {
    const input = `{"a":1, "model" : ${value} ,"b":[2]}`;
    const edit = rewriteJsonModel(Buffer.from(input), override, true);
    assert.equal(edit.body.toString(), '{"a":1, "model" : "forced-model" ,"b":[2]}');
    assert.equal(edit.asked, undefined);
    assert.equal(edit.sent, 'forced-model');
    assert.equal((JSON.parse(edit.body.toString()) as { model: unknown }).model, 'forced-model');
  });
}

test('forces the override on a string model whatever the mapping says', () => {
  const edit = rewriteJsonModel(Buffer.from('{"model":"gpt-4"}'), override, true);
  assert.equal(edit.body.toString(), '{"model":"forced-model"}');
  assert.equal(edit.asked, 'gpt-4');
  assert.equal(edit.sent, 'forced-model');
});

test('returns the same Buffer when the override equals the name asked', () => {
  const body = Buffer.from('{"model":"forced-model","n":1}');
  const edit = rewriteJsonModel(body, override, true);
  assert.equal(edit.body, body);
});

test('does not add a model to a body that has none, even with an override', () => {
  const body = Buffer.from('{"purpose":"batch"}');
  assert.equal(rewriteJsonModel(body, override, true).body, body);
});

const DUPLICATES: readonly { name: string; input: string; resolver: typeof mapping; model: string }[] = [
  { name: 'two model keys, the last mapped', input: '{"model":"gpt-3.5-turbo","messages":[],"model":"gpt-4"}', resolver: mapping, model: 'gpt-4-turbo' },
  { name: 'two model keys, the last unknown', input: '{"model":"gpt-4","messages":[],"model":"o3-mini"}', resolver: mapping, model: 'o3-mini' },
  { name: 'adjacent model keys with spacing', input: '{ "model" : "gpt-4" , "model" : "gpt-4" }', resolver: mapping, model: 'gpt-4-turbo' },
  { name: 'three model keys with an override', input: '{"model":"a","x":1,"model":"b","y":2,"model":"c"}', resolver: override, model: 'forced-model' },
  { name: 'an escaped duplicate spelling', input: '{"mod\\u0065l":"gpt-4","model":"gpt-3.5-turbo","stream":true}', resolver: mapping, model: 'gpt-4' },
  { name: 'a duplicate that is the first member', input: '{"model":"x","messages":[{"model":"y"}],"model":"gpt-4"}', resolver: mapping, model: 'gpt-4-turbo' },
  { name: 'a non-string duplicate with an override', input: '{"model":null,"model":{"a":1},"n":2}', resolver: override, model: 'forced-model' },
];

for (const d of DUPLICATES) {
  test(`leaves exactly one model, the resolved one, for ${d.name}`, () => {
    const edit = rewriteJsonModel(Buffer.from(d.input), d.resolver, true);
    assert.equal(countModelKeys(edit.body), 1);
    const parsed = JSON.parse(edit.body.toString()) as Record<string, unknown>;
    assert.equal(parsed.model, d.model);
    assert.equal(edit.sent, d.model);
    const original = JSON.parse(d.input) as Record<string, unknown>;
    for (const key of Object.keys(original).filter((k) => k !== 'model')) {
      assert.deepEqual(parsed[key], original[key], `member ${key} kept`);
    }
  });
}

test('removes a duplicate without touching the bytes of the other members', () => {
  const edit = rewriteJsonModel(Buffer.from('{"model":"gpt-3.5-turbo", "messages":[1, 2.0],\n"model":"gpt-4"}'), mapping, true);
  assert.equal(edit.body.toString(), '{"messages":[1, 2.0],\n"model":"gpt-4-turbo"}');
});

test('keeps a __proto__ member and JSON.parse of the result sees it as own data', () => {
  const edit = rewriteJsonModel(Buffer.from('{"model":"x","__proto__":{"model":"evil"},"model":"gpt-4"}'), mapping, true);
  assert.equal(edit.body.toString(), '{"__proto__":{"model":"evil"},"model":"gpt-4-turbo"}');
  assert.equal(countModelKeys(edit.body), 1);
  const parsed = JSON.parse(edit.body.toString()) as Record<string, unknown>;
  assert.equal(Object.hasOwn(parsed, '__proto__'), true);
  assert.equal(parsed.model, 'gpt-4-turbo');
});

const MALFORMED = ['{"model":"gpt-4",}', '{"model":"gpt-4"', '{"model":01}', '{"model":"gpt-4"} trailing', '', '   ', '{"model":"a\u0001"}', '{"model":"\\q"}'];

for (const input of MALFORMED) {
  test(`throws invalid_json (400) for ${JSON.stringify(input)} when the body is declared JSON`, () => {
    assert.throws(
      () => rewriteJsonModel(Buffer.from(input), mapping, true),
      (err: unknown) => err instanceof RelayError && err.code === 'invalid_json' && err.status === 400 && err.type === 'invalid_request_error',
    );
  });

  test(`passes ${JSON.stringify(input)} through as the same Buffer when the body is not declared JSON`, () => {
    const body = Buffer.from(input);
    const edit = rewriteJsonModel(body, mapping, false);
    assert.equal(edit.body, body);
    assert.equal(edit.asked, undefined);
  });
}

test('says whether the body asks for a stream: the last top-level "stream" is true', () => {
  const streams = (text: string): boolean => rewriteJsonModel(Buffer.from(text), mapping, false).streams;
  assert.equal(streams('{"model":"gpt-4","stream":true}'), true);
  assert.equal(streams('{"stream" : true, "messages": []}'), true);
  assert.equal(streams('{"model":"gpt-4","stream":false}'), false);
  assert.equal(streams('{"model":"gpt-4","stream":true,"stream":false}'), false);
  assert.equal(streams('{"model":"gpt-4","stream":"true"}'), false);
  assert.equal(streams('{"model":"gpt-4","options":{"stream":true}}'), false);
  assert.equal(streams('[{"stream":true}]'), false);
  assert.equal(streams('{"stream":true'), false);
});
