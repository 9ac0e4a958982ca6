import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileNames, globToRegExp, isGlob } from '../../src/routing/glob.js';

const CASES: readonly { patterns: readonly string[]; yes: readonly string[]; no: readonly string[] }[] = [
  { patterns: ['gpt-4o'], yes: ['gpt-4o'], no: ['gpt-4o-mini', 'gpt-4', 'GPT-4o', 'xgpt-4o', ''] },
  { patterns: ['gpt-4o*'], yes: ['gpt-4o', 'gpt-4o-mini', 'gpt-4o-2024-08-06'], no: ['gpt-4', 'my-gpt-4o', 'GPT-4o-mini'] },
  { patterns: ['*-mini'], yes: ['gpt-4o-mini', 'o3-mini', '-mini'], no: ['gpt-4o-mini-2024', 'mini'] },
  { patterns: ['claude-*-sonnet'], yes: ['claude-3-sonnet', 'claude-3.5-sonnet', 'claude--sonnet'], no: ['claude-3-opus', 'claude-3-sonnet-x', 'xclaude-3-sonnet'] },
  { patterns: ['a*b*c'], yes: ['abc', 'a1b2c', 'aXbYbZc'], no: ['ab', 'acb', 'abcd'] },
  { patterns: ['*'], yes: ['anything', '', 'gpt-4.1', 'a\nb'], no: [] },
  { patterns: ['gpt-4', '*'], yes: ['x', 'gpt-4'], no: [] },
  // Regex metacharacters are literal.
  { patterns: ['gpt-4.1'], yes: ['gpt-4.1'], no: ['gpt-421', 'gpt-4x1'] },
  { patterns: ['gpt-4.1*'], yes: ['gpt-4.1', 'gpt-4.1-mini'], no: ['gpt-421', 'gpt-4x1-mini'] },
  { patterns: ['a+b'], yes: ['a+b'], no: ['ab', 'aab', 'aaab'] },
  { patterns: ['a+b*'], yes: ['a+b', 'a+bc'], no: ['aab', 'aabc'] },
  { patterns: ['m(1)?[x]|y^$\\{2}*'], yes: ['m(1)?[x]|y^$\\{2}', 'm(1)?[x]|y^$\\{2}-z'], no: ['m1x', 'y', 'm'] },
  { patterns: ['*.gguf'], yes: ['llama.gguf'], no: ['llamaXgguf'] },
  // A list: exact names and globs together.
  { patterns: ['gpt-4', 'o1*', '*-embed'], yes: ['gpt-4', 'o1', 'o1-preview', 'text-embed'], no: ['gpt-4o', 'xo1', 'embed'] },
  { patterns: [], yes: [], no: ['gpt-4', ''] },
];

for (const { patterns, yes, no } of CASES) {
  test(`compileNames(${JSON.stringify(patterns)})`, () => {
    const match = compileNames(patterns);
    for (const name of yes) assert.equal(match(name), true, `${JSON.stringify(name)} should match`);
    for (const name of no) assert.equal(match(name), false, `${JSON.stringify(name)} should not match`);
  });
}

test('isGlob is true only with a star', () => {
  for (const [p, expected] of [['gpt-4', false], ['gpt-4.1', false], ['a+b', false], ['*', true], ['gpt*', true], ['*x', true]] as const) {
    assert.equal(isGlob(p), expected, p);
  }
});

test('globToRegExp is anchored and escapes everything but the star', () => {
  assert.equal(globToRegExp('gpt-4.1*').source, '^gpt-4\\.1.*$');
  assert.equal(globToRegExp('a+b').test('a+b'), true);
  assert.equal(globToRegExp('a+b').test('aab'), false);
  // The star crosses newlines too (flag s), as any model name character would.
  assert.equal(globToRegExp('a*b').test('a\nb'), true);
});
