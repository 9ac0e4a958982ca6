import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheDirectory, cacheFileName, isTrustedDirectory } from '../../src/launch/code-cache.js';

test('the code cache lives in the user cache directory unless RELAY_BARTENDER_CACHE_DIR says otherwise', () => {
  const home = () => '/home/ana';
  assert.equal(cacheDirectory({}, home), '/home/ana/.cache/relay-bartender');
  assert.equal(cacheDirectory({ XDG_CACHE_HOME: '/var/cache/ana' }, home), '/var/cache/ana/relay-bartender');
  // The XDG spec ignores a relative path.
  assert.equal(cacheDirectory({ XDG_CACHE_HOME: 'cache' }, home), '/home/ana/.cache/relay-bartender');
  assert.equal(cacheDirectory({ RELAY_BARTENDER_CACHE_DIR: '/srv/relay/cache', XDG_CACHE_HOME: '/x' }, home), '/srv/relay/cache');
  assert.equal(cacheDirectory({ RELAY_BARTENDER_CACHE_DIR: 'off' }, home), undefined);
  assert.equal(cacheDirectory({ RELAY_BARTENDER_CACHE_DIR: 'OFF' }, home), undefined);
  assert.equal(cacheDirectory({ RELAY_BARTENDER_CACHE_DIR: '' }, home), undefined);
  assert.equal(cacheDirectory({}, () => ''), undefined);
  assert.equal(
    cacheDirectory({}, () => {
      throw new Error('no passwd entry');
    }),
    undefined,
  );
});

test('each bundle, Node, architecture and flag set has its own cache file', () => {
  const name = cacheFileName('1cfd3da454e20a09', 'v20.20.2', 'x64', ['--max-semi-space-size=8']);
  assert.match(name, /^1cfd3da454e20a09-v20\.20\.2-x64-[0-9a-f]{8}\.v8cache$/);
  assert.equal(cacheFileName('1cfd3da454e20a09', 'v20.20.2', 'x64', ['--max-semi-space-size=8']), name);
  const others = [
    cacheFileName('aaaaaaaaaaaaaaaa', 'v20.20.2', 'x64', ['--max-semi-space-size=8']),
    cacheFileName('1cfd3da454e20a09', 'v22.11.0', 'x64', ['--max-semi-space-size=8']),
    cacheFileName('1cfd3da454e20a09', 'v20.20.2', 'arm64', ['--max-semi-space-size=8']),
    cacheFileName('1cfd3da454e20a09', 'v20.20.2', 'x64', []),
    cacheFileName('1cfd3da454e20a09', 'v20.20.2', 'x64', ['--max-semi-space-size=8', '--min-semi-space-size=8']),
    // Flags are told apart, not just concatenated.
    cacheFileName('1cfd3da454e20a09', 'v20.20.2', 'x64', ['--max-semi-space-size=8--min-semi-space-size=8']),
  ];
  assert.equal(new Set([name, ...others]).size, others.length + 1);
});

test('only a directory of this user that no one else can write is trusted with code', () => {
  const dir = (uid: number, mode: number, isDir = true) => ({ uid, mode, isDirectory: () => isDir });
  assert.equal(isTrustedDirectory(dir(1000, 0o40700), 1000), true);
  assert.equal(isTrustedDirectory(dir(1000, 0o40755), 1000), true);
  assert.equal(isTrustedDirectory(dir(0, 0o40700), 1000), false, "another user's directory");
  assert.equal(isTrustedDirectory(dir(1000, 0o40775), 1000), false, 'group-writable');
  assert.equal(isTrustedDirectory(dir(1000, 0o41777), 1000), false, 'world-writable, like /tmp');
  assert.equal(isTrustedDirectory(dir(1000, 0o100600, false), 1000), false, 'a file');
  assert.equal(isTrustedDirectory(dir(0, 0o40700), undefined), true, 'no uids (Windows)');
});
