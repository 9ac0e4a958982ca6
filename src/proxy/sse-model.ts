import { Transform, type TransformCallback } from 'node:stream';
import type { ModelResolver } from './model-policy.js';
import { rewriteJsonModel } from './model-rewrite.js';

/**
 * For model.echo_alias on streams: puts the name the client asked for back into each SSE event's
 * top-level `model`. Lines pass as soon as they are complete (an event is complete at its blank
 * line, so no event waits for the next); only a trailing partial line is held. Every other byte,
 * `event:`/`id:`/comment lines included, passes untouched.
 */
const DATA_PREFIX = Buffer.from('data:');
const LF = 10;

export class SseModelRewriter extends Transform {
  readonly #resolve: ModelResolver;
  #partial: Buffer | null = null;

  constructor(resolve: ModelResolver) {
    super();
    this.#resolve = resolve;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.#partial === null ? chunk : Buffer.concat([this.#partial, chunk]);
    const lastLf = data.lastIndexOf(LF);
    if (lastLf === -1) {
      this.#partial = data;
      callback();
      return;
    }
    this.#partial = lastLf === data.length - 1 ? null : data.subarray(lastLf + 1);
    callback(null, this.#rewriteLines(data.subarray(0, lastLf + 1)));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.#partial === null ? undefined : this.#rewriteLines(this.#partial));
  }

  #rewriteLines(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    let at = 0;
    let changed = false;
    while (at < block.length) {
      let end = block.indexOf(LF, at);
      end = end === -1 ? block.length : end + 1;
      const line = block.subarray(at, end);
      const rewritten = this.#rewriteLine(line);
      if (rewritten !== line) changed = true;
      parts.push(rewritten);
      at = end;
    }
    return changed ? Buffer.concat(parts) : block;
  }

  #rewriteLine(line: Buffer): Buffer {
    if (!line.subarray(0, DATA_PREFIX.length).equals(DATA_PREFIX)) return line;
    let start = DATA_PREFIX.length;
    if (line[start] === 32) start++;
    let end = line.length;
    if (line[end - 1] === LF) end--;
    if (line[end - 1] === 13) end--;
    const payload = line.subarray(start, end);
    if (payload[0] !== 123 /* { */) return line;
    const edit = rewriteJsonModel(payload, this.#resolve, false);
    if (edit.body === payload) return line;
    return Buffer.concat([line.subarray(0, start), edit.body, line.subarray(end)]);
  }
}
