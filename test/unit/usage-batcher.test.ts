import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Batcher, type BatcherOptions } from '../../src/usage/batcher.js';
import { captureLog, type CapturedLog } from '../helpers/usage-store-cases.js';

/** A writer the test controls: it records batches, fails while `failing`, and notes overlapping writes. */
class FakeWriter {
  batches: number[][] = [];
  attempts = 0;
  failing = false;
  active = 0;
  overlapped = false;

  write = async (batch: readonly number[]): Promise<void> => {
    this.attempts++;
    this.active++;
    if (this.active > 1) this.overlapped = true;
    await Promise.resolve();
    this.active--;
    if (this.failing) throw new Error('disk on fire');
    this.batches.push([...batch]);
  };

  get written(): number[] {
    return this.batches.flat();
  }
}

/** Waits, turn by turn of the event loop, until the timers under test have done their work. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 2_000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function setup(options: Partial<BatcherOptions<number>> = {}): Promise<{ batcher: Batcher<number>; writer: FakeWriter; logs: CapturedLog }> {
  const writer = new FakeWriter();
  const logs = await captureLog();
  const batcher = new Batcher<number>({
    write: writer.write,
    log: logs.log,
    batchSize: 4,
    flushIntervalMs: 60_000,
    maxPending: 1_000,
    retryBaseMs: 60_000,
    retryMaxMs: 60_000,
    closeAttempts: 2,
    describeError: (err) => (err instanceof Error ? err.message : String(err)),
    store: 'test',
    ...options,
  });
  return { batcher, writer, logs };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

test('add only queues; flush writes everything in batches, in order', async () => {
  const { batcher, writer } = await setup();
  for (const n of range(0, 3)) batcher.add(n);
  assert.equal(batcher.pending, 3);
  assert.equal(writer.batches.length, 0);
  for (const n of range(3, 10)) batcher.add(n);
  await batcher.flush();
  assert.deepEqual(writer.written, range(0, 10));
  assert.ok(writer.batches.every((b) => b.length <= 4));
  assert.equal(batcher.pending, 0);
  await batcher.close();
});

test('the interval timer writes a partial batch', async () => {
  const { batcher, writer } = await setup({ flushIntervalMs: 5 });
  batcher.add(1);
  await until(() => writer.written.length === 1, 'the timer to write');
  assert.deepEqual(writer.written, [1]);
  await batcher.close();
});

test('a full batch is written without waiting for the interval', async () => {
  const { batcher, writer } = await setup();
  for (const n of range(0, 4)) batcher.add(n);
  await until(() => writer.written.length === 4, 'the full batch to be written');
  assert.deepEqual(writer.written, range(0, 4));
  await batcher.close();
});

test('a write the batch size triggers takes whole batches; the remainder waits for the interval', async () => {
  const { batcher, writer } = await setup({ flushIntervalMs: 30 });
  // Nine records before the timer fires: two whole batches now, the ninth in a batch of its own later.
  for (const n of range(0, 9)) batcher.add(n);
  await until(() => writer.written.length === 8, 'the whole batches');
  assert.deepEqual(writer.batches, [range(0, 4), range(4, 8)]);
  assert.equal(batcher.pending, 1);
  await until(() => writer.written.length === 9, 'the interval to write the remainder');
  assert.deepEqual(writer.batches.at(-1), [8]);
  await batcher.close();
});

test('a failed write keeps the records in order, warns, and a retry writes them', async () => {
  const { batcher, writer, logs } = await setup({ retryBaseMs: 5, retryMaxMs: 5 });
  writer.failing = true;
  for (const n of range(0, 6)) batcher.add(n);
  await assert.rejects(batcher.flush(), /disk on fire/);
  assert.equal(batcher.pending, 6);
  const warn = logs.lines.find((l) => l.level === 40);
  assert.equal(warn?.err, 'disk on fire');
  assert.equal(warn?.retry_in_ms, 5);
  batcher.add(6);
  writer.failing = false;
  // The retry timer armed by the failure writes everything.
  await until(() => batcher.pending === 0, 'the retry');
  assert.deepEqual(writer.written, range(0, 7));
  await batcher.close();
});

test('backoff doubles up to the maximum', async () => {
  const { batcher, writer, logs } = await setup({ retryBaseMs: 100, retryMaxMs: 300 });
  writer.failing = true;
  batcher.add(1);
  for (let i = 0; i < 4; i++) await batcher.flush().catch(() => undefined);
  assert.deepEqual(
    logs.lines.filter((l) => l.level === 40).map((l) => l.retry_in_ms),
    [100, 200, 300, 300],
  );
  writer.failing = false;
  await batcher.close();
});

test('past maxPending the oldest records are dropped and the count is logged as an error', async () => {
  const { batcher, writer, logs } = await setup({ maxPending: 10 });
  writer.failing = true;
  for (const n of range(0, 25)) batcher.add(n);
  assert.equal(batcher.pending, 10);
  await assert.rejects(batcher.flush());
  const error = logs.lines.find((l) => l.level === 50);
  assert.equal(error?.dropped, 15);
  assert.match(String(error?.msg), /dropped the 15 oldest records/);
  writer.failing = false;
  await batcher.flush();
  assert.deepEqual(writer.written, range(15, 25), 'the newest records are the ones kept');
  await batcher.close();
});

test('drops stay bounded and cheap for a large queue', async () => {
  const { batcher, writer } = await setup({ maxPending: 50_000, batchSize: 100_000 });
  writer.failing = true;
  const started = performance.now();
  for (let n = 0; n < 200_000; n++) batcher.add(n);
  assert.ok(performance.now() - started < 1_000, 'dropping the oldest is not a shift of the whole queue each time');
  assert.equal(batcher.pending, 50_000);
  writer.failing = false;
  await batcher.flush();
  assert.equal(writer.written[0], 150_000);
  await batcher.close();
});

test('writes never overlap, even when flush races the timer', async () => {
  const { batcher, writer } = await setup({ flushIntervalMs: 1, batchSize: 2 });
  for (const n of range(0, 20)) batcher.add(n);
  await Promise.all([batcher.flush(), batcher.flush(), until(() => writer.attempts > 0, 'a write')]);
  await batcher.close();
  assert.equal(writer.overlapped, false);
  assert.deepEqual(writer.written, range(0, 20));
});

test('close writes what is left, and add after close is dropped with one error line', async () => {
  const { batcher, writer, logs } = await setup();
  batcher.add(1);
  batcher.add(2);
  await batcher.close();
  assert.deepEqual(writer.written, [1, 2]);
  batcher.add(3);
  batcher.add(4);
  assert.equal(batcher.pending, 0);
  assert.equal(logs.lines.filter((l) => l.level === 50).length, 1);
  await batcher.close();
});

test('close retries a bounded number of times, then reports the records lost', async () => {
  const { batcher, writer, logs } = await setup({ retryBaseMs: 1, retryMaxMs: 1, closeAttempts: 3 });
  writer.failing = true;
  batcher.add(1);
  batcher.add(2);
  await batcher.close();
  assert.equal(logs.lines.filter((l) => l.level === 40).length, 3);
  const error = logs.lines.find((l) => l.level === 50);
  assert.equal(error?.lost, 2);
});

test('records written (or dropped) are let go at once, while later ones still wait in the queue', async () => {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  assert.ok(typeof gc === 'function', 'this V8 exposes gc()');
  const logs = await captureLog();
  let written = 0;
  const batcher = new Batcher<{ n: number }>({
    write: async (batch) => {
      written += batch.length;
    },
    log: logs.log,
    batchSize: 10,
    flushIntervalMs: 60_000,
    maxPending: 25,
    retryBaseMs: 60_000,
    retryMaxMs: 60_000,
    closeAttempts: 1,
    describeError: String,
    store: 'test',
  });
  const refs: WeakRef<{ n: number }>[] = [];
  // Made in a function of their own, so that no variable of this async function still holds one.
  const add = (from: number, to: number): void => {
    for (let n = from; n < to; n++) {
      const record = { n };
      refs.push(new WeakRef(record));
      batcher.add(record);
    }
  };
  // 13 records: one batch of 10 goes out, 3 stay queued (the queue's head moves, it is not emptied).
  add(0, 13);
  await until(() => written === 10, 'the first batch');
  // Past maxPending, the oldest queued records are dropped: they must be let go as well.
  add(13, 38);
  await until(() => written >= 30, 'the next batches');
  // The collection runs after this turn, so that nothing on this stack still holds a record.
  await new Promise((resolve) => setImmediate(resolve));
  (gc as () => void)();
  // Written: 0-9, then 13-32 (two full batches); dropped: 10-12; still queued: 33-37.
  const kept = refs.map((ref, n) => (ref.deref() === undefined ? -1 : n)).filter((n) => n >= 0);
  assert.deepEqual(kept, range(33, 38), 'only the records still queued are held');
  assert.equal(batcher.pending, 5);
  await batcher.close();
  assert.equal(written, 35);
});
