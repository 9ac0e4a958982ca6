import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A large request body reaches the relay as the client socket's read buffers (64 KiB each, outside
 * V8's heap). They are garbage as soon as the backend's socket has taken them, but V8 frees such
 * memory only when it collects the small Buffer objects that own it, and it starts a collection
 * for outside-the-heap memory only past tens of MiB: a 50 MB upload grew the relay's RSS by
 * 25–35 MiB (issue 3, scenario D), where nginx grows by nothing.
 *
 * `noteBodyBytes` counts the bytes of streamed bodies, for all requests together; after every
 * STEP of them it runs a minor (young-generation) collection, 1–2 ms, which frees the read buffers
 * that are done with. At 1 Gbit/s of uploads that is about 30 collections a second. JSON bodies
 * (read whole, bounded by request.max_body_size) are not counted, nor is a body that streams
 * through untouched (no model to read, no retries): only the multipart rewriter and the spool see
 * the chunks.
 */
const STEP = 4 * 1024 * 1024;

export type Collect = (options: { type: 'minor' }) => void;

/** A counter that calls `collect` after every `step` bytes (pure bookkeeping; the real one is below). */
export function createBodyCounter(step: number, collect: () => Collect | null): (bytes: number) => void {
  let counted = 0;
  let collector: Collect | null | undefined;
  return (bytes) => {
    counted += bytes;
    if (counted < step) return;
    counted = 0;
    if (collector === undefined) collector = collect();
    collector?.({ type: 'minor' });
  };
}

/** Counts a streamed body's bytes (see above). */
export const noteBodyBytes = createBodyCounter(STEP, loadCollector);

/** V8's gc(), exposed once, the first time it is wanted; null where this V8 will not give it. */
export function loadCollector(): Collect | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    return null;
  }
}
