import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig, type RelayConfig } from '../../src/config/load.js';

const FILE = '/etc/relay/my-config.yaml';

/** The seed's config.yaml, verbatim (../shared/spec/seed.md). */
const SEED_YAML = `# server
server:
  port: 8080
  host: "0.0.0.0"

# backend API
backend:
  base_url: "https://api.openai.com"
  api_key: "sk-your-api-key"  # optional; when empty the client's key is passed through

# models
model:
  override: ""  # force this model name on every request
  mapping:      # model name mapping
    gpt-4: "gpt-4-turbo"
    gpt-3.5-turbo: "gpt-4"

# requests
request:
  timeout: 120
  connect_timeout: 30
`;

function parse(text: string, env: Record<string, string> = {}): RelayConfig {
  return parseConfig(text, FILE, env);
}

/** The ConfigError thrown for `text`; fails the test when none is. */
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

test('parses the seed config.yaml unchanged with its values', () => {
  const c = parse(SEED_YAML);
  assert.equal(c.server.port, 8080);
  assert.equal(c.server.host, '0.0.0.0');
  assert.equal(c.backend.base_url, 'https://api.openai.com');
  assert.equal(c.backend.api_key, 'sk-your-api-key');
  assert.equal(c.model.override, '');
  assert.deepEqual({ ...c.model.mapping }, { 'gpt-4': 'gpt-4-turbo', 'gpt-3.5-turbo': 'gpt-4' });
  assert.equal(c.request.timeout, 120);
  assert.equal(c.request.connect_timeout, 30);
});

test('fills the seed defaults for an empty file: port 8080, host 0.0.0.0, timeout 120, connect_timeout 30', () => {
  const c = parse('');
  assert.equal(c.server.port, 8080);
  assert.equal(c.server.host, '0.0.0.0');
  assert.equal(c.request.timeout, 120);
  assert.equal(c.request.connect_timeout, 30);
  assert.equal(c.backend.base_url, 'https://api.openai.com');
  assert.equal(c.backend.api_key, '');
  assert.equal(c.model.override, '');
  assert.deepEqual({ ...c.model.mapping }, {});
  assert.equal(c.model.echo_alias, false);
  assert.equal(c.request.max_body_size, 100 * 1024 * 1024);
  assert.deepEqual([...c.auth.keys], []);
});

test('accepts empty sections, an empty api_key and an empty mapping as defaults', () => {
  const c = parse('server:\nbackend:\n  api_key:\nmodel:\n  override:\n  mapping:\nrequest:\nauth:\nlog:\n');
  assert.equal(c.server.port, 8080);
  assert.equal(c.backend.api_key, '');
  assert.equal(c.model.override, '');
  assert.deepEqual({ ...c.model.mapping }, {});
  assert.equal(c.request.timeout, 120);
});

test('returns a deeply frozen config', () => {
  const c = parse(SEED_YAML);
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.server));
  assert.ok(Object.isFrozen(c.model.mapping));
  assert.throws(() => {
    (c.server as { port: number }).port = 1;
  }, TypeError);
});

test('expands ${VAR} from the environment', () => {
  const c = parse('backend:\n  api_key: "${TEST_KEY}"\n  base_url: "http://${HOST_NAME}:9000/v1"\n', { TEST_KEY: 'sk-from-env', HOST_NAME: 'llm.internal' });
  assert.equal(c.backend.api_key, 'sk-from-env');
  assert.equal(c.backend.base_url, 'http://llm.internal:9000/v1');
});

test('uses the ${VAR:-default} fallback when the variable is missing or empty, and the variable when set', () => {
  const yaml = 'model:\n  override: "${FORCE_MODEL:-gpt-4o-mini}"\n';
  assert.equal(parse(yaml).model.override, 'gpt-4o-mini');
  assert.equal(parse(yaml, { FORCE_MODEL: '' }).model.override, 'gpt-4o-mini');
  assert.equal(parse(yaml, { FORCE_MODEL: 'o3' }).model.override, 'o3');
  assert.equal(parse('backend:\n  api_key: "${OPENAI_API_KEY:-}"\n').backend.api_key, '');
});

test('keeps $${literal} as the text ${literal}', () => {
  assert.equal(parse('model:\n  override: "$${literal}"\n').model.override, '${literal}');
  assert.equal(parse('model:\n  override: "a-$${B}-${C}"\n', { C: 'c' }).model.override, 'a-${B}-c');
});

test('rejects a missing variable, naming the key path and the variable', () => {
  const err = configError('backend:\n  api_key: "${TEST_KEY}"\n');
  assert.match(err.message, /backend\.api_key/);
  assert.match(err.message, /TEST_KEY/);
});

test('names the list index of a missing variable in auth.keys', () => {
  const err = configError('auth:\n  keys:\n    - "rk-1"\n    - "${CLIENT_KEY_2}"\n');
  assert.match(err.message, /auth\.keys\[1\]/);
  assert.match(err.message, /CLIENT_KEY_2/);
});

test('turns port: ${PORT:-8080} into a number', () => {
  assert.equal(parse('server:\n  port: ${PORT:-8080}\n').server.port, 8080);
  assert.equal(parse('server:\n  port: ${PORT:-8080}\n', { PORT: '9000' }).server.port, 9000);
  assert.equal(parse('request:\n  timeout: "${TIMEOUT:-2.5}"\n').request.timeout, 2.5);
});

test('rejects an unknown key with a "did you mean" hint', () => {
  const err = configError('server:\n  prot: 9000\n');
  assert.match(err.message, /server\.prot/);
  assert.match(err.message, /unknown key/);
  assert.match(err.message, /did you mean "port"/);
});

test('rejects an unknown section with a hint', () => {
  const err = configError('backnd:\n  base_url: "https://x.example"\n');
  assert.match(err.message, /backnd/);
  assert.match(err.message, /did you mean "backend"/);
});

test('rejects a misspelled request key with a hint', () => {
  const err = configError('request:\n  conect_timeout: 5\n');
  assert.match(err.message, /request\.conect_timeout/);
  assert.match(err.message, /did you mean "connect_timeout"/);
});

const BAD: readonly { name: string; yaml: string; path: string; problem: RegExp }[] = [
  { name: 'a string port', yaml: 'server:\n  port: "abc"\n', path: 'server.port', problem: /expected number.*"abc"/ },
  { name: 'a port out of range', yaml: 'server:\n  port: 70000\n', path: 'server.port', problem: /65535/ },
  { name: 'an ftp base_url', yaml: 'backend:\n  base_url: "ftp://x"\n', path: 'backend.base_url', problem: /http:\/\/ or https:\/\//i },
  { name: 'a base_url that is not a URL', yaml: 'backend:\n  base_url: "not a url"\n', path: 'backend.base_url', problem: /URL/ },
  { name: 'a negative timeout', yaml: 'request:\n  timeout: -5\n', path: 'request.timeout', problem: /greater than 0/ },
  { name: 'a zero connect_timeout', yaml: 'request:\n  connect_timeout: 0\n', path: 'request.connect_timeout', problem: /greater than 0/ },
  { name: 'a string timeout', yaml: 'request:\n  timeout: "soon"\n', path: 'request.timeout', problem: /"soon"/ },
  { name: 'a bad size', yaml: 'request:\n  max_body_size: "lots"\n', path: 'request.max_body_size', problem: /"lots"/ },
  { name: 'a non-string mapping target', yaml: 'model:\n  mapping:\n    gpt-4: 4\n', path: 'model.mapping.gpt-4', problem: /string/ },
  { name: 'a list as mapping', yaml: 'model:\n  mapping:\n    - gpt-4\n', path: 'model.mapping', problem: /list|record|object/i },
  { name: 'a string echo_alias', yaml: 'model:\n  echo_alias: "yes"\n', path: 'model.echo_alias', problem: /boolean/ },
  { name: 'a number api_key', yaml: 'backend:\n  api_key: 12345\n', path: 'backend.api_key', problem: /string/ },
  { name: 'a mapping as host', yaml: 'server:\n  host:\n    a: 1\n', path: 'server.host', problem: /mapping|string/ },
  { name: 'an unknown log level', yaml: 'log:\n  level: loud\n', path: 'log.level', problem: /"loud"/ },
];

for (const bad of BAD) {
  test(`rejects ${bad.name}, naming the file, ${bad.path} and the problem`, () => {
    const err = configError(bad.yaml);
    assert.ok(err.message.includes(bad.path), `names ${bad.path}: ${err.message}`);
    assert.match(err.message, bad.problem);
  });
}

test('reports every problem of a config at once', () => {
  const err = configError('server:\n  port: "abc"\n  prot: 1\nrequest:\n  timeout: -1\n');
  assert.ok(err.problems.length >= 3, err.message);
  for (const path of ['server.port', 'server.prot', 'request.timeout']) assert.ok(err.message.includes(path), path);
});

const SIZES: readonly [string, number][] = [
  ['"100mb"', 104857600],
  ['"1kb"', 1024],
  ['"512KB"', 524288],
  ['"1gb"', 1073741824],
  ['"1.5m"', 1572864],
  ['2048', 2048],
];

for (const [text, bytes] of SIZES) {
  test(`reads max_body_size ${text} as ${bytes} bytes`, () => {
    assert.equal(parse(`request:\n  max_body_size: ${text}\n`).request.max_body_size, bytes);
  });
}

test('rejects a YAML syntax error naming the file', () => {
  const err = configError('server:\n  port: [8080\n');
  assert.match(err.message, /YAML/);
});

test('rejects duplicate YAML keys', () => {
  configError('server:\n  port: 1\n  port: 2\n');
});

test('rejects a top level that is not a mapping', () => {
  configError('- server\n- backend\n');
});

test('keeps mapping keys such as __proto__ as plain names', () => {
  const c = parse('model:\n  mapping:\n    __proto__: "safe-model"\n    gpt-4: "gpt-4-turbo"\n');
  assert.equal(Object.hasOwn(c.model.mapping, '__proto__'), true);
  assert.equal(c.model.mapping['__proto__'], 'safe-model');
  assert.equal(({} as Record<string, unknown>)['gpt-4'], undefined, 'Object.prototype is not polluted');
});

test('a relative usage.database sits beside the config file; absolute paths and URLs are kept', () => {
  const cases: readonly [string, string, string][] = [
    ['/etc/relay/config.yaml', 'usage.db', '/etc/relay/usage.db'],
    ['conf/config.yaml', 'data/usage.db', 'conf/data/usage.db'],
    ['config.yaml', 'usage.db', 'usage.db'],
    ['/etc/relay/config.yaml', '/var/lib/usage.db', '/var/lib/usage.db'],
    ['/etc/relay/config.yaml', 'postgres://u:p@db/relay', 'postgres://u:p@db/relay'],
    ['/etc/relay/config.yaml', '', ''],
  ];
  for (const [file, database, expected] of cases) {
    assert.equal(parseConfig(`usage: {database: "${database}"}`, file, {}).usage.database, expected, `${file} + ${database}`);
  }
});
