/**
 * A request body handed to undici so that it is not kept while the response streams.
 *
 * undici's Request keeps its `body` until the response ends. For a Buffer that is the whole prompt,
 * for as long as a stream lasts: 1,000 open streams of 200 KB prompts keep 200 MB that is no longer
 * needed once the body is on the wire. Given as this iterable instead, undici writes the one chunk
 * (with the content-length it was given) and the iterable lets go of it. A small body is passed as
 * it is: the iterable path costs a few microseconds and the bytes kept would be few.
 */
export const RELEASE_ABOVE = 64 * 1024;

export class OneShotBody implements Iterable<Buffer>, Iterator<Buffer> {
  #chunk: Buffer | undefined;

  constructor(chunk: Buffer) {
    this.#chunk = chunk;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Buffer> {
    const chunk = this.#chunk;
    this.#chunk = undefined;
    return chunk === undefined ? { done: true, value: undefined } : { done: false, value: chunk };
  }
}

/** What undici gets for a body: a large Buffer as a OneShotBody, anything else as it is. */
export function toDispatchBody<T>(body: T): T | OneShotBody {
  return Buffer.isBuffer(body) && body.length > RELEASE_ABOVE ? new OneShotBody(body) : body;
}
