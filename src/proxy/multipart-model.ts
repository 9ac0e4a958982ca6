import { Transform, type TransformCallback } from 'node:stream';
import { RelayError } from '../errors.js';
import { noteBodyBytes } from '../memory/young-gc.js';
import type { ModelResolver } from './model-policy.js';

/**
 * Rewrites the `model` field of a multipart/form-data body while it streams (RFC 7578 / RFC 2046):
 * every byte passes through as it arrives except the small `model` part, which is held until its
 * end and replaced. Uploads (audio, images, files) of any size keep flat memory. Only the tail that
 * could be the start of a delimiter is held back between chunks.
 */

const MAX_HEADER_BLOCK = 16 * 1024;
const MAX_MODEL_VALUE = 4 * 1024;
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);
const HEADER_END = Buffer.from('\r\n\r\n');

type Phase = 'body' | 'headers' | 'model' | 'epilogue';

export class MultipartModelRewriter extends Transform {
  /** The model the client named (the last `model` field), once the body has been read. */
  asked: string | undefined;
  sent: string | undefined;

  readonly #delimiter: Buffer;
  readonly #resolve: ModelResolver;
  #phase: Phase = 'body';
  #pending: Buffer;

  constructor(boundary: string, resolve: ModelResolver) {
    super();
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
    this.#resolve = resolve;
    // The first delimiter may open the body without a CRLF: scan as if one were there, never emit it.
    this.#pending = CRLF;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    noteBodyBytes(chunk.length);
    try {
      this.#consume(this.#join(chunk));
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  /**
   * The bytes to scan next. Inside a file part the held-back tail is shorter than a delimiter: when
   * no delimiter straddles it and the new chunk, the tail goes out as it is and the chunk is scanned
   * alone, so a large upload is never copied chunk by chunk (issue 3: flat memory).
   */
  #join(chunk: Buffer): Buffer {
    const pending = this.#pending;
    if (pending.length === 0) return chunk;
    const reach = this.#delimiter.length - 1;
    if ((this.#phase === 'body' && chunk.length >= reach) || this.#phase === 'epilogue') {
      const joint = Buffer.concat([pending, chunk.subarray(0, reach)]);
      const at = joint.indexOf(this.#delimiter);
      if (at === -1 || at >= pending.length || this.#phase === 'epilogue') {
        this.#emit(pending);
        this.#pending = EMPTY;
        return chunk;
      }
    }
    return Buffer.concat([pending, chunk]);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#phase === 'model') {
      callback(new RelayError('invalid_multipart', 'The multipart body ended inside the model field.'));
      return;
    }
    this.#emit(this.#pending);
    this.#pending = EMPTY;
    callback();
  }

  #consume(data: Buffer): void {
    let at = 0;
    for (;;) {
      if (this.#phase === 'epilogue') {
        this.#emit(data.subarray(at));
        this.#pending = EMPTY;
        return;
      }
      if (this.#phase === 'headers') {
        if (data.length - at < 2) {
          this.#pending = data.subarray(at);
          return;
        }
        if (data[at] === 45 && data[at + 1] === 45) {
          // `--` right after a delimiter closes the body: what follows is the epilogue.
          this.#phase = 'epilogue';
          continue;
        }
        const end = data.indexOf(HEADER_END, at);
        if (end === -1) {
          if (data.length - at > MAX_HEADER_BLOCK) throw new RelayError('invalid_multipart', 'A multipart part has headers over 16 KiB.');
          this.#pending = data.subarray(at);
          return;
        }
        const block = data.subarray(at, end + HEADER_END.length);
        this.#emit(block);
        at = end + HEADER_END.length;
        this.#phase = isModelField(block) ? 'model' : 'body';
        continue;
      }
      const next = data.indexOf(this.#delimiter, at);
      if (next === -1) {
        // Keep back what could be the first bytes of a delimiter split across chunks.
        const keep = Math.min(data.length - at, this.#delimiter.length - 1);
        if (this.#phase === 'model') {
          if (data.length - at > MAX_MODEL_VALUE) throw new RelayError('invalid_multipart', 'The multipart model field is over 4 KiB.');
          this.#pending = data.subarray(at);
          return;
        }
        this.#emit(data.subarray(at, data.length - keep));
        this.#pending = data.subarray(data.length - keep);
        return;
      }
      if (this.#phase === 'model') {
        const asked = data.toString('utf8', at, next);
        const sent = this.#resolve(asked) ?? asked;
        this.asked = asked;
        this.sent = sent;
        this.#emit(Buffer.from(sent, 'utf8'));
      } else {
        this.#emit(data.subarray(at, next));
      }
      this.#emit(this.#delimiter);
      at = next + this.#delimiter.length;
      this.#phase = 'headers';
    }
  }

  /** The virtual CRLF the scan started with is never emitted. */
  #skip = CRLF.length;

  #emit(bytes: Buffer): void {
    if (this.#skip > 0) {
      const s = Math.min(this.#skip, bytes.length);
      this.#skip -= s;
      bytes = bytes.subarray(s);
    }
    if (bytes.length > 0) this.push(bytes);
  }
}

/**
 * `form-data; name="model"`: the header and parameter names are case-insensitive, the field name is
 * not (RFC 7578 §4.2), so `name="Model"` is another field. The value may be quoted or a bare token.
 */
function isModelField(headerBlock: Buffer): boolean {
  const disposition = /^content-disposition:([^\r\n]*)/im.exec(headerBlock.toString('latin1'))?.[1];
  return disposition !== undefined && /;\s*[nN][aA][mM][eE]\s*=\s*(?:"model"|model)\s*(?:;|$)/.test(disposition);
}

/** The boundary of a multipart content type, or undefined. */
export function toBoundary(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}
