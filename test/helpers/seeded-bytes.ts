import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** A deterministic byte source (xorshift32), so a huge body can be regenerated instead of kept. */
export function createPrng(seed: number): (out: Buffer) => void {
  let x = seed >>> 0 || 0x9e3779b9;
  return (out) => {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out.writeUInt32LE(x, i);
    }
    for (; i < out.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
  };
}

export interface SeededBody {
  /** The stream to send: head, `size` seeded bytes in `chunkSize` chunks, tail. */
  readonly stream: Readable;
  /** Resolves once the stream ended: SHA-256 (hex) of the seeded bytes alone and of the whole body. */
  readonly digests: Promise<{ readonly payload: string; readonly whole: string }>;
  readonly length: number;
}

/**
 * Streams `head + seeded bytes + tail` without ever holding more than one chunk, hashing as it
 * goes. `onPayload` sees every seeded chunk too (e.g. to hash the body a rewrite should produce).
 */
export function seededBody(options: {
  readonly seed: number;
  readonly size: number;
  readonly head?: Buffer;
  readonly tail?: Buffer;
  readonly chunkSize?: number;
  readonly onPayload?: (chunk: Buffer) => void;
  /** Called before each seeded chunk with the bytes sent so far; a returned promise delays the chunk (a rejection fails the stream). */
  readonly gate?: (sent: number) => Promise<void> | undefined;
}): SeededBody {
  const head = options.head ?? Buffer.alloc(0);
  const tail = options.tail ?? Buffer.alloc(0);
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const fill = createPrng(options.seed);
  const payloadHash = createHash('sha256');
  const wholeHash = createHash('sha256');
  let remaining = options.size;
  let headSent = false;
  let sent = head.length;
  let resolveDigests: (d: { payload: string; whole: string }) => void = () => undefined;
  const digests = new Promise<{ payload: string; whole: string }>((resolve) => (resolveDigests = resolve));
  const emit = (bytes: Buffer): Buffer => {
    wholeHash.update(bytes);
    return bytes;
  };
  const stream = new Readable({
    read() {
      if (!headSent) {
        headSent = true;
        if (head.length > 0) this.push(emit(head));
        return;
      }
      if (remaining > 0) {
        const chunk = Buffer.allocUnsafe(Math.min(chunkSize, remaining));
        fill(chunk);
        remaining -= chunk.length;
        payloadHash.update(chunk);
        options.onPayload?.(chunk);
        const wait = options.gate?.(sent);
        sent += chunk.length;
        if (wait === undefined) this.push(emit(chunk));
        else wait.then(() => this.push(emit(chunk)), (err: unknown) => this.destroy(err as Error));
        return;
      }
      if (tail.length > 0) this.push(emit(tail));
      resolveDigests({ payload: payloadHash.digest('hex'), whole: wholeHash.digest('hex') });
      this.push(null);
    },
  });
  return { stream, digests, length: head.length + options.size + tail.length };
}
