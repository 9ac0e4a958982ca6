import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, 'relay.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

test('websocket defaults to enabled with a generous 600 s idle timeout', () => {
  const config = parseConfig('', 'relay.yaml', {});
  assert.deepEqual({ ...config.websocket }, { enabled: true, idle_timeout: 600 });
  assert.deepEqual({ ...parseConfig('websocket:\n', 'relay.yaml', {}).websocket }, { enabled: true, idle_timeout: 600 });
});

test('websocket.enabled and websocket.idle_timeout are read, 0 turning the idle limit off', () => {
  const config = parseConfig('websocket:\n  enabled: false\n  idle_timeout: 0\n', 'relay.yaml', {});
  assert.equal(config.websocket.enabled, false);
  assert.equal(config.websocket.idle_timeout, 0);
});

test('a wrong websocket value or a misspelled key names the key path', () => {
  assert.match(problems('websocket:\n  enabled: "yes"\n').join('\n'), /websocket\.enabled: expected boolean/);
  assert.match(problems('websocket:\n  idle_timeout: -1\n').join('\n'), /websocket\.idle_timeout/);
  assert.match(problems('websocket:\n  idle_timout: 5\n').join('\n'), /websocket\.idle_timout: unknown key \(did you mean "idle_timeout"\?\)/);
  assert.match(problems('websockets:\n  enabled: true\n').join('\n'), /did you mean "websocket"/);
});
