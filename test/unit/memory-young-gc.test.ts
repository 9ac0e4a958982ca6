import assert from 'node:assert/strict';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { test } from 'node:test';
import { createBodyCounter, loadCollector, type Collect } from '../../src/memory/young-gc.js';

test('the body counter collects once per step of bytes, across calls, and loads the collector once', () => {
  const calls: { type: string }[] = [];
  let loads = 0;
  const collect: Collect = (options) => calls.push(options);
  const note = createBodyCounter(100, () => {
    loads++;
    return collect;
  });
  note(60);
  assert.equal(calls.length, 0);
  note(39);
  assert.equal(calls.length, 0, '99 bytes is under one step');
  note(1);
  assert.deepEqual(calls, [{ type: 'minor' }]);
  for (let i = 0; i < 10; i++) note(50);
  assert.equal(calls.length, 6);
  assert.equal(loads, 1);
});

test('the body counter does nothing when this V8 gives no collector', () => {
  let loads = 0;
  const note = createBodyCounter(10, () => {
    loads++;
    return null;
  });
  assert.doesNotThrow(() => {
    for (let i = 0; i < 5; i++) note(10);
  });
  assert.equal(loads, 1, 'a missing collector is not looked for again');
});

function isMinor(entry: PerformanceEntry): boolean {
  const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
  return detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR;
}

test("the real collector is V8's gc(), and it runs a minor collection", { timeout: 5_000 }, async () => {
  const gc = loadCollector();
  assert.equal(typeof gc, 'function');
  let observer: PerformanceObserver | undefined;
  let minors = 0;
  const seen = new Promise<void>((resolve) => {
    observer = new PerformanceObserver((list) => {
      minors += list.getEntries().filter(isMinor).length;
      if (minors > 0) resolve();
    });
    observer.observe({ entryTypes: ['gc'] });
  });
  try {
    gc?.({ type: 'minor' });
    await seen;
  } finally {
    observer?.disconnect();
  }
});
