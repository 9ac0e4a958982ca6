import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelayError } from '../../src/errors.js';
import { parseTarget, toBasePath, toUpstreamPath } from '../../src/proxy/target.js';

const BASE_PATHS: readonly [baseUrl: string, basePath: string][] = [
  ['http://127.0.0.1:8080', '/v1'],
  ['http://127.0.0.1:8080/', '/v1'],
  ['https://api.openai.com', '/v1'],
  ['http://127.0.0.1:8080/v1', '/v1'],
  ['http://127.0.0.1:8080/v1/', '/v1'],
  ['http://127.0.0.1:8080/api/v1', '/api/v1'],
  ['https://api.deepseek.com/v1', '/v1'],
  ['https://open.bigmodel.cn/api/paas/v4', '/api/paas/v4'],
  ['https://ark.cn-beijing.volces.com/api/v3', '/api/v3'],
  ['http://127.0.0.1:8080/openai', '/openai/v1'],
  ['http://127.0.0.1:8080/openai/', '/openai/v1'],
  ['http://127.0.0.1:8080/v1beta', '/v1beta'],
];

for (const [baseUrl, basePath] of BASE_PATHS) {
  test(`toBasePath(${baseUrl}) is ${basePath}`, () => {
    assert.equal(toBasePath(baseUrl), basePath);
  });
}

const ACCEPTED: readonly [rawUrl: string, apiPath: string, query: string][] = [
  ['/v1/chat/completions', '/chat/completions', ''],
  ['/chat/completions', '/chat/completions', ''],
  ['/v1', '/', ''],
  ['/v1/', '/', ''],
  ['/', '/', ''],
  ['/v1/models/gpt-3.5-turbo', '/models/gpt-3.5-turbo', ''],
  ['/v1/models/ft%3Agpt-4o%3Aorg', '/models/ft%3Agpt-4o%3Aorg', ''],
  ['/v1/models/org%2Fname', '/models/org%2Fname', ''],
  ['/v1/files?purpose=fine-tune&limit=2', '/files', '?purpose=fine-tune&limit=2'],
  ['/v1/files?after=../../x', '/files', '?after=../../x'],
  ['/v1/files/file-abc.jsonl', '/files/file-abc.jsonl', ''],
  ['/v1/models/...', '/models/...', ''],
  ['/v1/models/.hidden', '/models/.hidden', ''],
  ['/v1/models/a..b', '/models/a..b', ''],
  ['/v1//chat//completions', '/chat/completions', ''],
  ['/v10/models', '/v10/models', ''],
  ['/v1beta/models', '/v1beta/models', ''],
];

for (const [rawUrl, apiPath, query] of ACCEPTED) {
  test(`parseTarget(${JSON.stringify(rawUrl)}) keeps ${apiPath}${query}`, () => {
    assert.deepEqual(parseTarget(rawUrl), { apiPath, query });
  });
}

const REFUSED: readonly string[] = [
  'http://evil.example/v1/models',
  'https://evil.example/v1/models',
  'evil.example/v1/models',
  '*',
  '',
  '//evil.example/v1/models',
  '/v1/../admin',
  '/v1/%2e%2e/admin',
  '/v1/%2E%2E/admin',
  '/v1/.%2E/x',
  '/v1/%2e./x',
  '/v1/./x',
  '/v1/%2e/x',
  '/v1/files/..%2f..%2fadmin',
  '/v1/files/..%2F..%2Fadmin',
  '/v1/..\\admin',
  '/v1/..%5cadmin',
  '/v1/..%5Cadmin',
  '/v1/files/%2e%2e%5cadmin',
  '/v1/models/..',
  '/..',
  '/v1/%zz/..',
];

for (const rawUrl of REFUSED) {
  test(`parseTarget(${JSON.stringify(rawUrl)}) is refused as invalid_path`, () => {
    assert.throws(
      () => parseTarget(rawUrl),
      (err: unknown) => err instanceof RelayError && err.code === 'invalid_path' && err.status === 400,
    );
  });
}

test('parseTarget refuses dot segments carrying a path parameter (servlet backends resolve `..;` as `..`)', () => {
  for (const rawUrl of ['/v1/..;/admin', '/v1/%2e%2e;jsessionid=x/admin', '/v1/.;/models']) {
    assert.throws(
      () => parseTarget(rawUrl),
      (err: unknown) => err instanceof RelayError && err.code === 'invalid_path',
      rawUrl,
    );
  }
});

const UPSTREAM_PATHS: readonly [basePath: string, rawUrl: string, upstreamPath: string][] = [
  ['/v1', '/v1/chat/completions', '/v1/chat/completions'],
  ['/v1', '/chat/completions', '/v1/chat/completions'],
  ['/api/v1', '/v1/chat/completions', '/api/v1/chat/completions'],
  ['/openai/v1', '/v1/models?limit=2', '/openai/v1/models?limit=2'],
  ['/v1', '/v1', '/v1'],
  ['/v1', '/v1/?x=1', '/v1?x=1'],
];

for (const [basePath, rawUrl, upstreamPath] of UPSTREAM_PATHS) {
  test(`toUpstreamPath(${basePath}, ${rawUrl}) is ${upstreamPath}`, () => {
    assert.equal(toUpstreamPath(basePath, parseTarget(rawUrl)), upstreamPath);
  });
}

test('every accepted target stays under the base path', () => {
  for (const [rawUrl] of ACCEPTED) {
    const path = toUpstreamPath('/base/v1', parseTarget(rawUrl));
    assert.ok(path.startsWith('/base/v1'), path);
    assert.ok(!decodeURIComponent(path.split('?')[0] ?? '').split(/[/\\]/).includes('..'), path);
  }
});
