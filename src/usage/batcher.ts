import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';

/**
 * The write queue in front of a usage store (issue 5): `add` only appends to memory; a timer
 * (unref'd, so it never keeps the process alive) writes batches off the request path. A write
 * that fails keeps its batch at the head of the queue and is retried with exponential backoff,
 * each failure logged as a warning. The queue is bounded: past `maxPending` records the oldest are
 * dropped, and the count is logged as an error. Writes never overlap. `close` writes what is left,
 * retrying a bounded number of times.
 */
export interface BatcherOptions<T> {
  readonly write: (batch: readonly T[]) => Promise<void>;
  readonly log: Logger;
  /** Records per write; a full batch is written at once, without waiting for the interval. */
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxPending: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Write attempts `close` makes before giving up (and saying how many records were lost). */
  readonly closeAttempts: number;
  /** The error's message, with any secret (a database password) masked. */
  readonly describeError: (err: unknown) => string;
  /** Names the store in log lines (its target, password masked). */
  readonly store: string;
}

export class Batcher<T> {
  readonly #o: BatcherOptions<T>;
  readonly #queue = new Fifo<T>();
  #inflight = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerImmediate = false;
  /** Every write runs after the previous one settled. */
  #chain: Promise<void> = Promise.resolve();
  #failures = 0;
  #dropped = 0;
  #closed = false;
  #closing: Promise<void> | null = null;
  #warnedLate = false;

  constructor(options: BatcherOptions<T>) {
    this.#o = options;
  }

  /** Records not yet written, in the queue or being written. */
  get pending(): number {
    return this.#queue.length + this.#inflight;
  }

  add(item: T): void {
    if (this.#closed) {
      if (!this.#warnedLate) {
        this.#warnedLate = true;
        this.#o.log.error({ store: this.#o.store }, 'usage record arrived after the store was closed; dropped');
      }
      return;
    }
    this.#queue.push(item);
    if (this.pending > this.#o.maxPending) this.#bound();
    // While failing, the retry timer is armed and decides when the next write happens.
    if (this.#failures > 0) return;
    if (this.#queue.length >= this.#o.batchSize) {
      if (!this.#timerImmediate) this.#arm(0, true);
    } else if (this.#timer === null) {
      this.#arm(this.#o.flushIntervalMs, false);
    }
  }

  /** Writes every pending record now; rejects (records kept, retry armed) when a write fails. */
  flush(): Promise<void> {
    this.#clearTimer();
    return this.#attempt();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#attempt();
        break;
      } catch {
        // #attempt logged it.
        if (attempt >= this.#o.closeAttempts) {
          this.#o.log.error(
            { store: this.#o.store, lost: this.pending },
            `usage store closed with ${this.pending} records unwritten after ${attempt} attempts`,
          );
          break;
        }
        await sleep(this.#backoff(attempt));
      }
    }
    this.#reportDropped();
  }

  /**
   * One drain of the queue, with the failure bookkeeping. `fullOnly` (a write the batch size
   * triggered) writes whole batches and leaves the rest for the next one or the interval: a
   * remainder of a few records would cost a transaction of its own.
   */
  #attempt(fullOnly = false): Promise<void> {
    const run = this.#chain.then(() => this.#drain(fullOnly));
    this.#chain = run.then(
      () => {
        this.#failures = 0;
        this.#reportDropped();
      },
      (err: unknown) => {
        this.#failures++;
        const delay = this.#backoff(this.#failures);
        this.#o.log.warn(
          { store: this.#o.store, err: this.#o.describeError(err), pending: this.pending, failures: this.#failures, retry_in_ms: delay },
          'usage store write failed; the records are kept and retried',
        );
        this.#reportDropped();
        this.#arm(delay, true);
      },
    );
    return run;
  }

  async #drain(fullOnly: boolean): Promise<void> {
    while (this.#queue.length >= (fullOnly ? this.#o.batchSize : 1)) {
      const batch = this.#queue.take(this.#o.batchSize);
      this.#inflight = batch.length;
      try {
        await this.#o.write(batch);
      } catch (err) {
        this.#inflight = 0;
        this.#queue.restore(batch);
        this.#bound();
        throw err;
      }
      this.#inflight = 0;
    }
  }

  #tick(): void {
    // A tick the batch size armed (not the interval, not a retry) writes whole batches only.
    const fullOnly = this.#timerImmediate && this.#failures === 0;
    this.#timer = null;
    this.#timerImmediate = false;
    // Failures are logged by #attempt and re-armed there; nothing to do with them here.
    this.#attempt(fullOnly).then(
      () => {
        if (this.#queue.length > 0) this.#arm(this.#queue.length >= this.#o.batchSize ? 0 : this.#o.flushIntervalMs, false);
      },
      () => undefined,
    );
  }

  #arm(delay: number, replace: boolean): void {
    if (this.#closed) return;
    if (this.#timer !== null) {
      if (!replace) return;
      clearTimeout(this.#timer);
    }
    this.#timerImmediate = delay === 0;
    this.#timer = setTimeout(() => this.#tick(), delay);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerImmediate = false;
  }

  #backoff(failures: number): number {
    return Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(failures - 1, 30));
  }

  /** Drops the oldest queued records past maxPending (those being written are kept). */
  #bound(): void {
    const excess = Math.min(this.pending - this.#o.maxPending, this.#queue.length);
    if (excess <= 0) return;
    this.#queue.dropOldest(excess);
    this.#dropped += excess;
  }

  #reportDropped(): void {
    if (this.#dropped === 0) return;
    this.#o.log.error(
      { store: this.#o.store, dropped: this.#dropped, max_pending: this.#o.maxPending },
      `usage queue full: dropped the ${this.#dropped} oldest records`,
    );
    this.#dropped = 0;
  }
}

/** A queue with O(1) amortised take and drop from the head. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  take(n: number): T[] {
    const out = this.#items.slice(this.#head, this.#head + n);
    this.#vacate(out.length);
    return out;
  }

  dropOldest(n: number): void {
    this.#vacate(Math.min(n, this.length));
  }

  /**
   * Moves the head past `n` items and forgets them. A slot left pointing at a record already
   * written kept it alive until the array was compacted, up to three batches later: long enough for
   * V8 to move every record to the old generation (issue 5 bench, `--trace-gc-nvp` under A's load:
   * 330-340 bytes promoted per request whatever the batch size; with this and batches of 200, 162,
   * against 123 with accounting off).
   */
  #vacate(n: number): void {
    this.#items.fill(undefined as T, this.#head, this.#head + n);
    this.#head += n;
    this.#compact();
  }

  /** Puts a batch taken with `take` back at the head. */
  restore(batch: readonly T[]): void {
    if (this.#head >= batch.length) {
      this.#head -= batch.length;
      for (let i = 0; i < batch.length; i++) this.#items[this.#head + i] = batch[i] as T;
    } else {
      this.#items = [...batch, ...this.#items.slice(this.#head)];
      this.#head = 0;
    }
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
