import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withQuery } from '../../src/upstream/backend.js';

test('withQuery: the backend parameters are set on the client query', () => {
  const cases: readonly [string, readonly (readonly [string, string])[], string][] = [
    ['', [], ''],
    ['?', [], ''],
    ['', [['api-version', '2024-06-01']], '?api-version=2024-06-01'],
    ['?limit=10', [['api-version', '2024-06-01']], '?limit=10&api-version=2024-06-01'],
    ['limit=10', [['api-version', 'v']], '?limit=10&api-version=v'],
    // The backend's value replaces the client's, every occurrence; the client's other pairs keep their bytes.
    ['?api-version=old&x=1&api-version=older', [['api-version', 'new']], '?x=1&api-version=new'],
    ['?q=a%20b&flag&api%2Dversion=old', [['api-version', 'new']], '?q=a%20b&flag&api-version=new'],
    ['?a=1', [['b', '2'], ['c', '3']], '?a=1&b=2&c=3'],
    ['?a=1', [], '?a=1'],
    // Values are encoded.
    ['', [['q', 'a b&c=d']], '?q=a%20b%26c%3Dd'],
    ['?after=file-abc&order=desc', [['k', '']], '?after=file-abc&order=desc&k='],
  ];
  for (const [client, set, expected] of cases) assert.equal(withQuery(client, set), expected, `${client} + ${JSON.stringify(set)}`);
});
