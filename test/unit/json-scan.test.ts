import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanJson } from '../../src/proxy/json-scan.js';

/** JSON.parse is the reference for the grammar: the scanner must agree with it on every case. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const VALID: readonly [string, string][] = [
  ['an empty object', '{}'],
  ['an object with members', '{"a":1,"b":"two","c":[true,false,null]}'],
  ['whitespace everywhere', ' \t\r\n{ "a" :\n[ 1 , { "b" : null } ]\t}\r\n '],
  ['a top-level array', '[1,2,{"model":"x"}]'],
  ['a top-level string', '"model"'],
  ['a top-level number', '-12.5e+3'],
  ['a top-level literal', 'null'],
  ['number spellings', '[0,-0,0.5,1E5,1e-5,-1.25E+10,123456789012345678901234567890]'],
  ['every escape', '"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"'],
  ['raw UTF-8 in strings', '{"k":"café 😀 中文"}'],
  ['an empty key', '{"":1}'],
  ['nested empty containers', '{"a":{},"b":[],"c":[[],{}]}'],
  ['DEL and high bytes are not control characters', '"\u007f\u0080"'],
];

const INVALID: readonly [string, string][] = [
  ['an empty body', ''],
  ['whitespace only', '  \r\n\t '],
  ['a trailing comma in an object', '{"a":1,}'],
  ['a trailing comma in an array', '[1,2,]'],
  ['a leading zero', '{"a":01}'],
  ['a negative leading zero', '[-01]'],
  ['a bare minus', '[-]'],
  ['a dot without digits after', '[1.]'],
  ['a dot without digits before', '[.5]'],
  ['an exponent without digits', '[1e]'],
  ['an exponent sign without digits', '[1e+]'],
  ['a plus sign', '[+1]'],
  ['a bad escape', '"\\x41"'],
  ['a short unicode escape', '"\\u12"'],
  ['a non-hex unicode escape', '"\\u12G4"'],
  ['a raw newline in a string', '{"a":"line\nbreak"}'],
  ['a raw tab in a string', '"a\tb"'],
  ['a raw NUL in a string', '"a\u0000b"'],
  ['an unterminated object', '{"a":1'],
  ['an unterminated array', '[1,2'],
  ['an unterminated string', '{"a":"abc'],
  ['an unterminated key', '{"ab'],
  ['an escape at the very end', '"abc\\'],
  ['garbage after the value', '{"a":1}x'],
  ['a second value', '{"a":1} {"b":2}'],
  ['a second top-level scalar', '1 2'],
  ['an unquoted key', '{a:1}'],
  ['single quotes', "{'a':1}"],
  ['a missing colon', '{"a" 1}'],
  ['a missing value', '{"a":}'],
  ['a missing comma', '[1 2]'],
  ['a lone comma', '{,}'],
  ['a double comma', '{"a":1,,"b":2}'],
  ['a stray closer', '}'],
  ['a mismatched closer', '{"a":1]'],
  ['a mismatched closer in an array', '[1}'],
  ['a truncated literal', '[tru]'],
  ['a capitalised literal', '[True]'],
  ['NaN', '[NaN]'],
  ['Infinity', '[Infinity]'],
  ['a comment', '{"a":1 /* no */}'],
  ['a key that is not a string', '{1:2}'],
];

for (const [name, text] of VALID) {
  test(`accepts ${name}`, () => {
    assert.equal(parses(text), true, 'the case itself must be valid JSON');
    const scan = scanJson(Buffer.from(text));
    assert.equal(scan.ok, true);
  });
}

for (const [name, text] of INVALID) {
  test(`rejects ${name} with the offset of the problem`, () => {
    assert.equal(parses(text), false, 'the case itself must be invalid JSON');
    const scan = scanJson(Buffer.from(text));
    assert.equal(scan.ok, false);
    if (!scan.ok) {
      assert.ok(scan.offset >= 0 && scan.offset <= text.length, `offset ${scan.offset} within the body`);
    }
  });
}

test('reports only top-level members of an object, with their exact key and value spans', () => {
  const text = '{ "model" : "gpt-4", "messages":[{"role":"user","model":"inner"}], "tools":{"model":1},"n":-1.50e+2 }';
  const buf = Buffer.from(text);
  const scan = scanJson(buf);
  assert.ok(scan.ok);
  assert.equal(scan.isObject, true);
  assert.deepEqual(
    scan.members.map((m) => m.key),
    ['model', 'messages', 'tools', 'n'],
  );
  const spans = scan.members.map((m) => [text.slice(m.keyStart, m.keyStart + 1), text.slice(m.valueStart, m.valueEnd)]);
  assert.deepEqual(spans, [
    ['"', '"gpt-4"'],
    ['"', '[{"role":"user","model":"inner"}]'],
    ['"', '{"model":1}'],
    ['"', '-1.50e+2'],
  ]);
});

test('decodes escaped key spellings such as "mod\\u0065l"', () => {
  const scan = scanJson(Buffer.from('{"mod\\u0065l":"gpt-4","\\u005f\\u005fproto\\u005f\\u005f":{}}'));
  assert.ok(scan.ok);
  assert.deepEqual(
    scan.members.map((m) => m.key),
    ['model', '__proto__'],
  );
});

test('keeps __proto__ and constructor keys as ordinary members', () => {
  const scan = scanJson(Buffer.from('{"__proto__":{"model":"x"},"constructor":1,"model":"gpt-4"}'));
  assert.ok(scan.ok);
  assert.deepEqual(
    scan.members.map((m) => m.key),
    ['__proto__', 'constructor', 'model'],
  );
  assert.equal(({} as Record<string, unknown>).model, undefined, 'Object.prototype is not polluted');
});

test('reports duplicate top-level keys each time they occur', () => {
  const scan = scanJson(Buffer.from('{"model":"a","x":1,"model":"b"}'));
  assert.ok(scan.ok);
  assert.deepEqual(
    scan.members.map((m) => m.key),
    ['model', 'x', 'model'],
  );
});

test('reports no members for a top-level array, string or number', () => {
  for (const text of ['[{"model":"gpt-4"}]', '"model"', '42']) {
    const scan = scanJson(Buffer.from(text));
    assert.ok(scan.ok, text);
    assert.equal(scan.isObject, false, text);
    assert.deepEqual(scan.members, [], text);
  }
});

test('scans 100,000 nested arrays inside the object without overflowing the stack and still finds the model', () => {
  const depth = 100_000;
  const text = `{"model":"gpt-4","deep":${'['.repeat(depth)}${']'.repeat(depth)},"last":"model"}`;
  const scan = scanJson(Buffer.from(text));
  assert.ok(scan.ok);
  assert.deepEqual(
    scan.members.map((m) => m.key),
    ['model', 'deep', 'last'],
  );
  const model = scan.members[0];
  assert.ok(model);
  assert.equal(text.slice(model.valueStart, model.valueEnd), '"gpt-4"');
});

test('finds a model that comes after 100,000 nested objects', () => {
  const depth = 100_000;
  const text = `{"deep":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)},"model":"gpt-4"}`;
  const scan = scanJson(Buffer.from(text));
  assert.ok(scan.ok);
  const last = scan.members.at(-1);
  assert.equal(last?.key, 'model');
  assert.equal(text.slice(last.valueStart, last.valueEnd), '"gpt-4"');
});

test('rejects 100,000 unclosed nested arrays without overflowing the stack', () => {
  const scan = scanJson(Buffer.from(`{"model":"gpt-4","deep":${'['.repeat(100_000)}`));
  assert.equal(scan.ok, false);
});

test('scans a body that is a view into a larger buffer', () => {
  const outer = Buffer.from('xxxx{"mod\\u0065l":"gpt-4"}yyyy');
  const view = outer.subarray(4, outer.length - 4);
  const scan = scanJson(view);
  assert.ok(scan.ok);
  assert.equal(scan.members[0]?.key, 'model');
});
