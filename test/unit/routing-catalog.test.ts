import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createModelCatalog, type CatalogOptions, type ModelSource } from '../../src/models/catalog.js';
import { compileNames } from '../../src/routing/glob.js';

interface FakeSource extends ModelSource {
  calls: number;
  /** What the next fetch does: a list, an error, or a promise the test settles itself. */
  next: readonly unknown[] | Error | (() => Promise<readonly unknown[]>);
}

function source(name: string, next: FakeSource['next'], aliases: Record<string, readonly string[]> = {}): FakeSource {
  const s: FakeSource = {
    name,
    calls: 0,
    next,
    fetch() {
      s.calls++;
      const n = s.next;
      if (typeof n === 'function') return n();
      return n instanceof Error ? Promise.reject(n) : Promise.resolve(n);
    },
    aliasesOf: (provider) => aliases[provider] ?? [],
  };
  return s;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const model = (id: string, owned_by = 'openai', extra: Record<string, unknown> = {}) => ({ id, object: 'model', created: 1700000000, owned_by, ...extra });

function catalog(sources: readonly ModelSource[], overrides: Partial<CatalogOptions> = {}) {
  const clock = { t: 1_000_000 };
  const errors: string[] = [];
  const routable = compileNames(['gpt-*', 'deepseek-*', 'fast', 'cheap', 'local-only']);
  const c = createModelCatalog({
    configured: [
      { id: 'fast', owner: 'a' },
      { id: 'local-only', owner: 'b' },
    ],
    sources,
    routable,
    ownerOf: (name) => (name.startsWith('deepseek-') ? 'b' : routable(name) ? 'a' : undefined),
    ttlMs: 300_000,
    now: () => clock.t,
    onSourceError: (name) => errors.push(name),
    ...overrides,
  });
  return { c, clock, errors };
}

const ids = (entries: readonly { id: string }[]): string[] => entries.map((e) => e.id);

test('list: the union of the backends lists, their aliases and the configured names, routable only', async () => {
  const a = source('a', [model('gpt-4o'), model('gpt-4o-mini'), model('whisper-1'), model('dall-e-3')], { 'gpt-4o': ['fast'], 'gpt-4o-mini': ['cheap'] });
  const b = source('b', [model('deepseek-chat', 'deepseek'), model('gpt-4o', 'someone-else')]);
  const { c } = catalog([a, b]);
  const list = await c.list();
  assert.deepEqual(ids(list), ['gpt-4o', 'fast', 'gpt-4o-mini', 'cheap', 'deepseek-chat', 'local-only']);
  // The first list that names a model describes it; an alias carries its model's fields.
  assert.deepEqual(list[0], model('gpt-4o'));
  assert.deepEqual(list[1], { ...model('gpt-4o'), id: 'fast' });
  assert.deepEqual(list[4], model('deepseek-chat', 'deepseek'));
  // A configured name no list describes is synthesized, owned by its backend.
  assert.deepEqual(list[5], { id: 'local-only', object: 'model', created: 0, owned_by: 'b' });
});

test('list: malformed entries are skipped, missing fields filled, extra fields kept', async () => {
  const a = source('a', [null, 'gpt-x', [], { id: '' }, { id: 42 }, { id: 'gpt-bare' }, { id: 'gpt-rich', object: 'model', created: 5, owned_by: 'me', permission: [] }]);
  const { c } = catalog([a]);
  const list = await c.list();
  assert.deepEqual(list.slice(0, 2), [
    { id: 'gpt-bare', object: 'model', created: 0, owned_by: 'a' },
    { id: 'gpt-rich', object: 'model', created: 5, owned_by: 'me', permission: [] },
  ]);
});

test('list: cached for the TTL, fetched again after it', async () => {
  const a = source('a', [model('gpt-4o')]);
  const { c, clock } = catalog([a]);
  await c.list();
  await c.list();
  assert.equal(a.calls, 1);
  clock.t += 299_999;
  await c.list();
  assert.equal(a.calls, 1);
  a.next = [model('gpt-5')];
  clock.t += 1;
  assert.deepEqual(ids(await c.list()), ['gpt-5', 'fast', 'local-only']);
  assert.equal(a.calls, 2);
});

test('list: ttl 0 fetches every time', async () => {
  const a = source('a', [model('gpt-4o')]);
  const { c } = catalog([a], { ttlMs: 0 });
  await c.list();
  await c.list();
  assert.equal(a.calls, 2);
});

test('a failing source is left out, reported, and retried after the short failure TTL', async () => {
  const a = source('a', new Error('connect ECONNREFUSED'));
  const b = source('b', [model('deepseek-chat')]);
  const { c, clock, errors } = catalog([a, b]);
  assert.deepEqual(ids(await c.list()), ['deepseek-chat', 'fast', 'local-only']);
  assert.deepEqual(errors, ['a']);
  clock.t += 9_999;
  await c.list();
  assert.equal(a.calls, 1, 'not retried on every call');
  a.next = [model('gpt-4o')];
  clock.t += 1;
  assert.deepEqual(ids(await c.list()), ['gpt-4o', 'deepseek-chat', 'fast', 'local-only']);
  assert.equal(a.calls, 2);
  assert.equal(b.calls, 1, 'the healthy source keeps its own TTL');
});

test('a source failing after a success keeps its stale list until the retry', async () => {
  const a = source('a', [model('gpt-4o')]);
  const { c, clock, errors } = catalog([a]);
  await c.list();
  a.next = new Error('503');
  clock.t += 300_000;
  assert.deepEqual(ids(await c.list()), ['gpt-4o', 'fast', 'local-only']);
  assert.deepEqual(errors, ['a']);
  assert.equal(a.calls, 2);
  clock.t += 9_999;
  await c.list();
  assert.equal(a.calls, 2);
  clock.t += 1;
  await c.list();
  assert.equal(a.calls, 3);
});

test('with a TTL shorter than the failure TTL, a failure is retried after the TTL', async () => {
  const a = source('a', new Error('down'));
  const { c, clock } = catalog([a], { ttlMs: 2_000 });
  await c.list();
  clock.t += 1_999;
  await c.list();
  assert.equal(a.calls, 1);
  clock.t += 1;
  await c.list();
  assert.equal(a.calls, 2);
});

test('concurrent calls share one fetch per source', async () => {
  const pending = deferred<readonly unknown[]>();
  const a = source('a', () => pending.promise);
  const { c } = catalog([a]);
  const calls = [c.list(), c.list(), c.get('gpt-4o'), c.list()];
  assert.equal(a.calls, 1);
  pending.resolve([model('gpt-4o')]);
  const [l1, l2, got, l3] = await Promise.all(calls);
  assert.equal(a.calls, 1);
  assert.deepEqual(ids(l1 as { id: string }[]), ['gpt-4o', 'fast', 'local-only']);
  assert.deepEqual(l2, l1);
  assert.deepEqual(l3, l1);
  assert.deepEqual(got, model('gpt-4o'));
});

test('concurrent calls share one failing fetch too', async () => {
  const pending = deferred<readonly unknown[]>();
  const a = source('a', () => pending.promise);
  const { c, errors } = catalog([a]);
  const calls = Promise.all([c.list(), c.list()]);
  pending.reject(new Error('timeout'));
  const [l1, l2] = await calls;
  assert.deepEqual(ids(l1), ['fast', 'local-only']);
  assert.deepEqual(l2, l1);
  assert.equal(a.calls, 1);
  assert.deepEqual(errors, ['a']);
});

test('get: a listed entry, a synthesized entry for a routable name, undefined otherwise', async () => {
  const a = source('a', [model('gpt-4o'), model('whisper-1')], { 'gpt-4o': ['fast'] });
  const { c } = catalog([a]);
  assert.deepEqual(await c.get('gpt-4o'), model('gpt-4o'));
  assert.deepEqual(await c.get('fast'), { ...model('gpt-4o'), id: 'fast' });
  assert.deepEqual(await c.get('gpt-unlisted'), { id: 'gpt-unlisted', object: 'model', created: 0, owned_by: 'a' });
  assert.deepEqual(await c.get('deepseek-coder'), { id: 'deepseek-coder', object: 'model', created: 0, owned_by: 'b' });
  assert.equal(await c.get('whisper-1'), undefined, 'listed by a backend but not routable');
  assert.equal(await c.get('llama'), undefined);
});

test('get: an unroutable name is answered without fetching', async () => {
  const a = source('a', [model('gpt-4o')]);
  const { c } = catalog([a]);
  assert.equal(await c.get('llama'), undefined);
  assert.equal(a.calls, 0);
});

test('get: a routable name with no owner is owned by relay-bartender', async () => {
  const { c } = catalog([], { ownerOf: () => undefined });
  assert.deepEqual(await c.get('gpt-any'), { id: 'gpt-any', object: 'model', created: 0, owned_by: 'relay-bartender' });
});
