import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveBackends } from '../../src/config/backends.js';
import { ConfigError, parseConfig, type RelayConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const FILE = '/etc/relay/backends.yaml';

function parse(text: string, env: Record<string, string> = {}): RelayConfig {
  return parseConfig(text, FILE, env);
}

function configError(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parse(text, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.file, FILE);
    assert.ok(err.message.includes(FILE), `the message names the file: ${err.message}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

const TWO_BACKENDS = `
backends:
  - name: openai
    base_url: https://api.openai.com
    api_key: sk-one
    models: ["gpt-*", "o1*"]
  - name: azure
    base_url: https://my.openai.azure.com/openai/deployments/x
    api_keys: [az-1, az-2]
    key_header: Api-Key
    query: { api-version: "2024-06-01" }
    headers: { x-team: 7 }
    models: [gpt-4o]
    mapping: { gpt-4o: my-gpt4o }
    weight: 2
    priority: 1
    timeout: 60
    list_models: false
`;

test('legacy `backend:` only: one backend named default serving every model, max_attempts 1', () => {
  const c = parse('backend:\n  base_url: https://example.test/v1\n  api_key: sk-x\nrequest:\n  timeout: 90\n  connect_timeout: 7\n');
  assert.equal(c.backends.length, 1);
  const b = c.backends[0];
  assert.ok(b);
  assert.equal(b.name, 'default');
  assert.equal(b.base_url, 'https://example.test/v1');
  assert.deepEqual([...b.keys], ['sk-x']);
  assert.deepEqual([...b.models], ['*']);
  assert.deepEqual({ ...b.mapping }, {});
  assert.equal(b.weight, 1);
  assert.equal(b.priority, 0);
  assert.equal(b.timeout, 90);
  assert.equal(b.connect_timeout, 7);
  assert.equal(b.key_header, 'authorization');
  assert.equal(b.list_models, true);
  assert.equal(c.retry.max_attempts, 1);
});

test('an empty file is the legacy default backend with pass-through keys', () => {
  const c = parse('');
  assert.deepEqual(
    c.backends.map((b) => [b.name, b.base_url, b.keys.length, b.timeout, b.connect_timeout]),
    [['default', 'https://api.openai.com', 0, 120, 30]],
  );
  assert.equal(c.retry.max_attempts, 1);
});

test('`backends` only: exactly the listed backends, no default, max_attempts 3', () => {
  const c = parse(TWO_BACKENDS);
  assert.deepEqual(
    c.backends.map((b) => b.name),
    ['openai', 'azure'],
  );
  assert.equal(c.retry.max_attempts, 3);
  const [openai, azure] = c.backends;
  assert.ok(openai && azure);
  assert.deepEqual([...openai.keys], ['sk-one']);
  assert.deepEqual([...openai.models], ['gpt-*', 'o1*']);
  assert.equal(openai.priority, 0);
  assert.equal(openai.weight, 1);
  assert.equal(openai.key_header, 'authorization');
  assert.deepEqual([...azure.keys], ['az-1', 'az-2']);
  assert.equal(azure.key_header, 'api-key', 'header names are lower-cased');
  assert.deepEqual({ ...azure.query }, { 'api-version': '2024-06-01' });
  assert.deepEqual({ ...azure.headers }, { 'x-team': '7' }, 'numbers become strings');
  assert.deepEqual({ ...azure.mapping }, { 'gpt-4o': 'my-gpt4o' });
  assert.equal(azure.weight, 2);
  assert.equal(azure.priority, 1);
  assert.equal(azure.timeout, 60);
  assert.equal(azure.list_models, false);
});

test('a backends entry without models serves every model', () => {
  const c = parse('backends:\n  - name: a\n    base_url: http://127.0.0.1:9000\n');
  assert.deepEqual([...(c.backends[0]?.models ?? [])], ['*']);
  assert.deepEqual([...(c.backends[0]?.keys ?? ['x'])], []);
});

test('timeout and connect_timeout are inherited from `request` unless a backend sets its own', () => {
  const c = parse(`
request:
  timeout: 45
  connect_timeout: 4
backends:
  - name: a
    base_url: http://a.test
  - name: b
    base_url: http://b.test
    timeout: 300
  - name: c
    base_url: http://c.test
    connect_timeout: 1.5
`);
  assert.deepEqual(
    c.backends.map((b) => [b.name, b.timeout, b.connect_timeout]),
    [
      ['a', 45, 4],
      ['b', 300, 4],
      ['c', 45, 1.5],
    ],
  );
});

test('both `backend:` and `backends`: default appended as the lowest tier', () => {
  const c = parse(`backend:\n  base_url: https://fallback.test\n  api_key: sk-fb\n${TWO_BACKENDS}`);
  assert.deepEqual(
    c.backends.map((b) => [b.name, b.priority]),
    [
      ['openai', 0],
      ['azure', 1],
      ['default', 2],
    ],
  );
  const d = c.backends[2];
  assert.ok(d);
  assert.equal(d.base_url, 'https://fallback.test');
  assert.deepEqual([...d.keys], ['sk-fb']);
  assert.deepEqual([...d.models], ['*']);
  assert.equal(c.retry.max_attempts, 3);
});

test('an empty `backend:` line beside `backends` still adds the default tier', () => {
  const c = parse(`backend:\n${TWO_BACKENDS}`);
  assert.deepEqual(
    c.backends.map((b) => b.name),
    ['openai', 'azure', 'default'],
  );
});

test('retry.max_attempts written wins over either default', () => {
  assert.equal(parse('retry:\n  max_attempts: 4\n').retry.max_attempts, 4);
  assert.equal(parse(`retry:\n  max_attempts: 1\n${TWO_BACKENDS}`).retry.max_attempts, 1);
});

test('retry, health and model defaults', () => {
  const c = parse('');
  assert.deepEqual([...c.retry.on_status], [429, 500, 502, 503, 504]);
  assert.equal(c.retry.backoff, 0.1);
  assert.equal(c.retry.max_backoff, 2);
  assert.equal(c.retry.max_retry_after, 5);
  assert.equal(c.health.failure_threshold, 3);
  assert.equal(c.health.cooldown, 30);
  assert.equal(c.health.bad_key_cooldown, 600);
  assert.equal(c.model.list_ttl, 300);
  assert.equal(c.model.list_timeout, 5);
  assert.deepEqual([...c.routes], []);
});

test('routes, retry, health and model.list_ttl as written', () => {
  const c = parse(`${TWO_BACKENDS}
routes:
  - prefix: /v1/files
    backend: azure
retry:
  on_status: [502, 503]
  backoff: 0.5
  max_backoff: 4
  max_retry_after: 0
health:
  failure_threshold: 5
  cooldown: 10
  bad_key_cooldown: 60
model:
  list_ttl: 0
  list_timeout: 2
`);
  assert.deepEqual(c.routes.map((r) => ({ ...r })), [{ prefix: '/v1/files', backend: 'azure' }]);
  assert.deepEqual([...c.retry.on_status], [502, 503]);
  assert.equal(c.retry.backoff, 0.5);
  assert.equal(c.retry.max_backoff, 4);
  assert.equal(c.retry.max_retry_after, 0);
  assert.equal(c.health.failure_threshold, 5);
  assert.equal(c.health.cooldown, 10);
  assert.equal(c.health.bad_key_cooldown, 60);
  assert.equal(c.model.list_ttl, 0);
  assert.equal(c.model.list_timeout, 2);
});

test('the resolved backends are frozen', () => {
  const c = parse(TWO_BACKENDS);
  assert.ok(Object.isFrozen(c.backends));
  assert.ok(Object.isFrozen(c.backends[1]));
  assert.ok(Object.isFrozen(c.backends[1]?.keys));
});

const BAD: readonly { name: string; yaml: string; path: string; problem: RegExp }[] = [
  {
    name: 'duplicate backend names',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test\n  - name: b\n    base_url: http://b.test\n  - name: a\n    base_url: http://c.test\n',
    path: 'backends.2.name',
    problem: /"a" is already the name of backends\.0/,
  },
  {
    name: 'a listed backend named default beside `backend:`',
    yaml: 'backend:\n  base_url: http://d.test\nbackends:\n  - name: default\n    base_url: http://a.test\n',
    path: 'backend',
    problem: /named "default", and backends\.0 has that name too/,
  },
  {
    name: 'a route to an unknown backend',
    yaml: 'backends:\n  - name: alpha\n    base_url: http://a.test\n  - name: beta\n    base_url: http://b.test\nroutes:\n  - prefix: /files\n    backend: gamma\n',
    path: 'routes.0.backend',
    problem: /no backend is named "gamma" \(known: alpha, beta\)/,
  },
  {
    name: 'api_key and api_keys both',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test\n    api_key: k\n    api_keys: [k1, k2]\n',
    path: 'backends.0',
    problem: /set api_key or api_keys, not both/,
  },
  {
    name: 'an empty backends list',
    yaml: 'backends: []\n',
    path: 'backends',
    problem: /list at least one backend, or leave `backends` out/,
  },
  {
    name: 'a bad header name in key_header',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test\n    key_header: "api key"\n',
    path: 'backends.0.key_header',
    problem: /expected an HTTP header name/,
  },
  {
    name: 'a misspelled key inside a backends entry',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test\n    modles: [gpt-4]\n',
    path: 'backends.0.modles',
    problem: /unknown key \(did you mean "models"\?\)/,
  },
  {
    name: 'a misspelled key inside a routes entry',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test\nroutes:\n  - prefx: /files\n    backend: a\n',
    path: 'routes.0.prefx',
    problem: /did you mean "prefix"/,
  },
  {
    name: 'a misspelled retry key',
    yaml: 'retry:\n  max_atempts: 2\n',
    path: 'retry.max_atempts',
    problem: /did you mean "max_attempts"/,
  },
  {
    name: 'a misspelled health key',
    yaml: 'health:\n  cooldwn: 2\n',
    path: 'health.cooldwn',
    problem: /did you mean "cooldown"/,
  },
  {
    name: 'a backend without base_url',
    yaml: 'backends:\n  - name: a\n',
    path: 'backends.0.base_url',
    problem: /expected string/,
  },
  {
    name: 'a backend name with a space',
    yaml: 'backends:\n  - name: my backend\n    base_url: http://a.test\n',
    path: 'backends.0.name',
    problem: /expected a name of letters, digits/,
  },
  {
    name: 'an empty models list',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test\n    models: []\n',
    path: 'backends.0.models',
    problem: /list at least one model name or pattern/,
  },
  {
    name: 'a zero weight',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test\n    weight: 0\n',
    path: 'backends.0.weight',
    problem: /must be greater than 0/,
  },
  {
    name: 'a base_url with a query string',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test/?api-version=1\n',
    path: 'backends.0.base_url',
    problem: /must not carry credentials, a query string or a fragment/,
  },
  {
    name: 'a route prefix without a slash',
    yaml: 'backends:\n  - name: a\n    base_url: http://a.test\nroutes:\n  - prefix: files\n    backend: a\n',
    path: 'routes.0.prefix',
    problem: /expected a path starting with "\/"/,
  },
  {
    name: 'max_attempts 0',
    yaml: 'retry:\n  max_attempts: 0\n',
    path: 'retry.max_attempts',
    problem: /./,
  },
  {
    name: 'a retry status outside 400-599',
    yaml: 'retry:\n  on_status: [200]\n',
    path: 'retry.on_status.0',
    problem: /./,
  },
  {
    name: 'a negative list_ttl',
    yaml: 'model:\n  list_ttl: -1\n',
    path: 'model.list_ttl',
    problem: /./,
  },
];

for (const bad of BAD) {
  test(`rejects ${bad.name}, naming ${bad.path}`, () => {
    const err = configError(bad.yaml);
    assert.ok(err.message.includes(bad.path), `names ${bad.path}: ${err.message}`);
    assert.match(err.message, bad.problem);
  });
}

test('the unknown-route message lists default among the known names when `backend:` is written', () => {
  const err = configError('backend:\n  base_url: http://d.test\nbackends:\n  - name: a\n    base_url: http://a.test\nroutes:\n  - prefix: /files\n    backend: b\n');
  assert.match(err.message, /\(known: a, default\)/);
});

test('several backend problems are reported at once', () => {
  const err = configError(
    'backends:\n  - name: a\n    base_url: http://a.test\n    api_key: k\n    api_keys: [k2]\n  - name: a\n    base_url: http://b.test\nroutes:\n  - prefix: /x\n    backend: zz\n',
  );
  for (const part of ['backends.0:', 'backends.1.name', 'routes.0.backend']) assert.ok(err.message.includes(part), `${part}: ${err.message}`);
});

test('resolveBackends (pure): the default tier sits below the lowest listed priority', () => {
  const raw = configSchema.parse({
    backends: [
      { name: 'a', base_url: 'http://a.test', priority: 4 },
      { name: 'b', base_url: 'http://b.test', priority: 2 },
    ],
  });
  const withDefault = resolveBackends(raw, { backend: true });
  assert.ok(withDefault.ok);
  assert.deepEqual(
    withDefault.backends.map((b) => [b.name, b.priority]),
    [
      ['a', 4],
      ['b', 2],
      ['default', 5],
    ],
  );
  const without = resolveBackends(raw, { backend: false });
  assert.ok(without.ok);
  assert.equal(without.backends.length, 2);
  assert.equal(without.maxAttempts, 3);
});

test('api keys from the environment are read into the backend', () => {
  const c = parse('backends:\n  - name: a\n    base_url: http://a.test\n    api_keys: ["${K1}", "${K2}"]\n', { K1: 'sk-1', K2: 'sk-2' });
  assert.deepEqual([...(c.backends[0]?.keys ?? [])], ['sk-1', 'sk-2']);
});

test('config errors never echo a backend key', () => {
  const err = configError('backends:\n  - name: a\n    base_url: http://a.test\n    api_key: sk-secret-123\n    api_keys: [sk-other-456]\n');
  assert.ok(!err.message.includes('sk-secret-123'));
  assert.ok(!err.message.includes('sk-other-456'));
});
