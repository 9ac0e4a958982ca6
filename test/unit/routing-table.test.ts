import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackendSpec } from '../../src/config/backends.js';
import { createRouteTable, toApiPrefix, type RouteRule } from '../../src/routing/table.js';

function spec(name: string, models: readonly string[], priority = 0, mapping: Record<string, string> = {}): BackendSpec {
  return {
    name,
    base_url: `https://${name}.example`,
    keys: [],
    models,
    mapping,
    weight: 1,
    priority,
    timeout: 120,
    connect_timeout: 30,
    headers: {},
    query: {},
    key_header: 'authorization',
    list_models: true,
    stream_usage: true,
  };
}

const BACKENDS: readonly BackendSpec[] = [
  spec('openai', ['gpt-*', 'o1*'], 0), // 0
  spec('azure', ['gpt-4o*'], 0), // 1
  spec('backup', ['gpt-*'], 1), // 2
  spec('deepseek', ['deepseek-*'], 0), // 3
  spec('catchall', ['*'], 5), // 4
  spec('mid', ['gpt-4o'], 2), // 5
];

test('forModel: tiers by priority, best first, every matching backend of a tier in it', () => {
  const table = createRouteTable(BACKENDS, []);
  const cases: readonly [string, readonly (readonly number[])[]][] = [
    ['gpt-4o', [[0, 1], [2], [5], [4]]],
    ['gpt-4o-mini', [[0, 1], [2], [4]]],
    ['gpt-3.5-turbo', [[0], [2], [4]]],
    ['o1-preview', [[0], [4]]],
    ['deepseek-chat', [[3], [4]]],
    ['llama-3', [[4]]],
  ];
  for (const [model, tiers] of cases) assert.deepEqual(table.forModel(model), tiers, model);
});

test('forModel: undefined when no backend serves the name', () => {
  const table = createRouteTable([spec('a', ['gpt-*']), spec('b', ['claude-3'], 1)], []);
  assert.equal(table.forModel('llama'), undefined);
  assert.equal(table.forModel('claude-3-opus'), undefined);
  assert.deepEqual(table.forModel('claude-3'), [[1]]);
  // Asked again: the cached miss is still a miss.
  assert.equal(table.forModel('llama'), undefined);
});

test('forModel: the cached answer is the same as the first and stays consistent across names', () => {
  const table = createRouteTable(BACKENDS, []);
  const first = table.forModel('gpt-4o');
  const second = table.forModel('gpt-4o');
  assert.equal(second, first, 'the same cached tiers object');
  assert.deepEqual(table.forModel('deepseek-chat'), [[3], [4]]);
  assert.deepEqual(table.forModel('gpt-4o'), [[0, 1], [2], [5], [4]]);
  // Many distinct names (beyond the cache limit) keep giving correct answers.
  for (let i = 0; i < 10_050; i++) table.forModel(`gpt-x${i}`);
  assert.deepEqual(table.forModel('gpt-4o'), [[0, 1], [2], [5], [4]]);
  assert.deepEqual(table.forModel('gpt-x3'), [[0], [2], [4]]);
  assert.equal(table.forModel('nothing') === undefined, false, 'the catch-all serves it');
});

test('forModel: equal priorities written apart still form one tier, in config order', () => {
  const table = createRouteTable([spec('a', ['*'], 1), spec('b', ['*'], 0), spec('c', ['*'], 1)], []);
  assert.deepEqual(table.forModel('m'), [[1], [0, 2]]);
});

test('needsModel: false only for one backend serving every model without a mapping', () => {
  assert.equal(createRouteTable([spec('default', ['*'])], []).needsModel, false);
  assert.equal(createRouteTable([spec('default', ['gpt-*'])], []).needsModel, true);
  assert.equal(createRouteTable([spec('default', ['*'], 0, { a: 'b' })], []).needsModel, true);
  assert.equal(createRouteTable([spec('a', ['*']), spec('b', ['*'])], []).needsModel, true);
});

test('toApiPrefix: with or without /v1 and a trailing slash, the same API path', () => {
  const cases: readonly [string, string][] = [
    ['/files', '/files'],
    ['/files/', '/files'],
    ['/v1/files', '/files'],
    ['/v1/files/', '/files'],
    ['/v1/files//', '/files'],
    ['/v1', '/'],
    ['/v1/', '/'],
    ['/', '/'],
    ['/v1files', '/v1files'],
    ['/v1/batches/abc', '/batches/abc'],
  ];
  for (const [input, expected] of cases) assert.equal(toApiPrefix(input), expected, input);
});

test('forPath: routes by prefix; siblings sharing a prefix string do not match; else the first backend', () => {
  const backends = [spec('main', ['*']), spec('files', ['*'], 1), spec('batch', ['*'], 2)];
  const routes: RouteRule[] = [
    { prefix: '/v1/files/', backend: 'files' },
    { prefix: '/batches', backend: 'batch' },
  ];
  const table = createRouteTable(backends, routes);
  const cases: readonly [string, number][] = [
    ['/files', 1],
    ['/files/', 1],
    ['/files/file-abc/content', 1],
    ['/filesystem', 0],
    ['/files-x', 0],
    ['/batches', 2],
    ['/batches/batch_1/cancel', 2],
    ['/batchesx', 0],
    ['/models', 0],
    ['/', 0],
    ['/chat/completions', 0],
  ];
  for (const [path, backend] of cases) assert.deepEqual(table.forPath(path), [[backend]], path);
});

test('forPath: the first matching rule wins; a /v1 rule matches every path', () => {
  const backends = [spec('a', ['*']), spec('b', ['*']), spec('c', ['*'])];
  const table = createRouteTable(backends, [
    { prefix: '/files/special', backend: 'c' },
    { prefix: '/files', backend: 'b' },
  ]);
  assert.deepEqual(table.forPath('/files/special/x'), [[2]]);
  assert.deepEqual(table.forPath('/files/other'), [[1]]);
  const all = createRouteTable(backends, [{ prefix: '/v1', backend: 'b' }]);
  assert.deepEqual(all.forPath('/anything'), [[1]]);
  assert.deepEqual(all.forPath('/'), [[1]]);
});
