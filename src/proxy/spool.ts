import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { RelayError } from '../errors.js';
import { noteBodyBytes } from '../memory/young-gc.js';

/**
 * A request body kept so that it can be sent again (a retry on another backend or key). Up to
 * `memoryLimit` bytes it stays in memory; above, it is written to a temp file (under os.tmpdir(),
 * mode 0600, removed when the request ends), so a large upload is never held in memory, let alone
 * twice. Each `open()` is a fresh stream of the same bytes.
 */
export interface Spool {
  readonly length: number;
  /** The bytes, when they stayed in memory. */
  readonly buffer: Buffer | undefined;
  open(): Readable;
  dispose(): void;
}

export interface SpoolOptions {
  readonly memoryLimit: number;
  readonly maxSize: number;
}

/** A Writable that collects what it is given; `spool()` gives the result once it finished. */
export class SpoolWriter extends Writable {
  #chunks: Buffer[] = [];
  #size = 0;
  #dir: string | undefined;
  #file: FileHandle | undefined;
  #path: string | undefined;
  readonly #options: SpoolOptions;

  constructor(options: SpoolOptions) {
    // Not destroyed at 'finish': the kept file must outlive the write, for every try that opens it.
    super({ highWaterMark: 64 * 1024, autoDestroy: false });
    this.#options = options;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#size += chunk.length;
    if (this.#size > this.#options.maxSize) {
      callback(new RelayError('request_too_large', `The request body is larger than request.max_body_size (${this.#options.maxSize} bytes).`));
      return;
    }
    if (this.#file === undefined && this.#size <= this.#options.memoryLimit) {
      this.#chunks.push(chunk);
      callback();
      return;
    }
    noteBodyBytes(chunk.length);
    this.#toFile(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#file === undefined) callback();
    else this.#file.close().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const file = this.#file;
    this.#file = undefined;
    void (file?.close().catch(() => undefined) ?? Promise.resolve()).then(() => this.#removeDir());
    callback(error);
  }

  async #toFile(chunk: Buffer): Promise<void> {
    if (this.#file === undefined) {
      this.#dir = await mkdtemp(join(tmpdir(), 'relay-bartender-'));
      if (this.destroyed) return this.#abandon(undefined);
      this.#path = join(this.#dir, 'body');
      const file = await open(this.#path, 'wx', 0o600);
      // Destroyed while the file was being made (the client left): nothing may be left behind.
      if (this.destroyed) return this.#abandon(file);
      this.#file = file;
      const held = this.#chunks;
      this.#chunks = [];
      for (const c of held) await this.#file.write(c);
    }
    await this.#file.write(chunk);
  }

  async #abandon(file: FileHandle | undefined): Promise<void> {
    await file?.close().catch(() => undefined);
    this.#removeDir();
    throw new Error('the body was abandoned while it was being kept');
  }

  #removeDir(): void {
    if (this.#dir !== undefined) void rm(this.#dir, { recursive: true, force: true }).catch(() => undefined);
    this.#dir = undefined;
  }

  /** The spooled body; call after 'finish'. */
  spool(): Spool {
    const length = this.#size;
    const path = this.#path;
    if (path === undefined) {
      const body = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, length);
      this.#chunks = [];
      return { length, buffer: body, open: () => Readable.from([body], { objectMode: false }), dispose: () => undefined };
    }
    return {
      length,
      buffer: undefined,
      open: () => createReadStream(path, { highWaterMark: 64 * 1024 }),
      dispose: () => this.#removeDir(),
    };
  }
}
