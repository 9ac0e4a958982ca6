import { performance } from 'node:perf_hooks';
import { Transform, type TransformCallback } from 'node:stream';
import { scanJson } from '../proxy/json-scan.js';
import { isRecord, usageFromEvent } from './extract.js';
import type { UsageFigures } from './record.js';

/**
 * Reads usage off an SSE response body as it passes (issue 5), without changing it.
 *
 * Captured:
 * - `usage`: from any event carrying a non-null usage object (chat and completions chunks with
 *   `usage`, Responses API `response.completed` with `response.usage`); the last one wins.
 * - `firstTokenAt`: `performance.now()` when the first event carrying generated output was read:
 *   a chat chunk whose `delta` has a member other than `role` that is not null, `""` or `[]`
 *   (content, refusal, tool_calls, reasoning_content, ...), a completions chunk with non-empty
 *   `text`, or an event whose `type` ends in `.delta` (Responses API, transcriptions). The usual
 *   first chat chunk, `{"role":"assistant","content":""}`, does not count.
 * - `sawDone`: the stream reached its natural end: `data: [DONE]`, or a Responses API terminal
 *   event (`response.completed`, `response.failed`, `response.incomplete`).
 *
 * Without stripping, every chunk is pushed on as the same Buffer before it is looked at; events
 * are only JSON-parsed until the first token is seen and, after that, only when their data holds
 * a `"usage"` key whose value is an object.
 *
 * `stripInjectedUsage` is for a chat stream where the relay added `stream_options.include_usage`
 * itself: the client must receive exactly the bytes it would have received without it. So
 * (a) the extra final chunk, with `"choices":[]` and a usage object, is removed whole, blank line
 * included, and (b) the `"usage":null` member OpenAI then adds to every other chunk is cut out
 * with its comma, every other byte kept. To do that each event is held until its blank line
 * (backends send an event in one write, so this adds no wait in practice); a chunk that needed no
 * edit and ended on an event boundary is still pushed as the same Buffer. Only events with a single
 * `data:` line are edited (OpenAI never splits one). Lines end in LF or CRLF (a lone CR is not
 * taken as a line end).
 */
export interface SseUsageTapOptions {
  readonly stripInjectedUsage?: boolean;
}

const LF = 10;
const CR = 13;
const SPACE = 32;
const DATA = Buffer.from('data:');
const EVENT = Buffer.from('event:');
const DONE = Buffer.from('[DONE]');
const USAGE = Buffer.from('"usage"');
const TERMINAL_EVENTS: ReadonlySet<string> = new Set(['response.completed', 'response.failed', 'response.incomplete']);
/** Past this many bytes, an event is not parsed (and, when stripping, stripping stops). */
const MAX_EVENT_BYTES = 8 * 1024 * 1024;
const UNPARSED = Symbol('unparsed');

type Verdict = 'keep' | 'drop' | Buffer;

export class SseUsageTap extends Transform {
  #strip: boolean;
  #usage: UsageFigures | undefined;
  #firstTokenAt: number | undefined;
  #sawDone = false;

  /** Pieces of the current, incomplete line. */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  /** The current event's raw lines, held only while stripping. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** The current event's `data:` payloads. */
  #data: Buffer[] = [];
  #dataBytes = 0;
  /** Where the first data line sits in #held, and its payload's offsets in that line. */
  #dataLineIndex = -1;
  #payloadStart = 0;
  #payloadEnd = 0;
  #eventName = '';
  /** The current event grew past MAX_EVENT_BYTES: it is passed on without being read. */
  #skipEvent = false;

  constructor(options: SseUsageTapOptions = {}) {
    super();
    this.#strip = options.stripInjectedUsage === true;
  }

  get usage(): UsageFigures | undefined {
    return this.#usage;
  }

  get firstTokenAt(): number | undefined {
    return this.#firstTokenAt;
  }

  get sawDone(): boolean {
    return this.#sawDone;
  }

  /**
   * One chunk in; what goes on to the client out: the same Buffer when nothing changed, other bytes
   * when an event was edited or held events completed, undefined when everything is held back.
   * Used directly by the relay's pump (no stream in between), and by the Transform below.
   */
  process(chunk: Buffer): Buffer | undefined {
    if (!this.#strip) {
      this.#scan(chunk, null);
      return chunk;
    }
    const out: Buffer[] = [];
    const nothingHeld = this.#held.length === 0 && this.#partial.length === 0;
    const edited = this.#scan(chunk, out);
    if (nothingHeld && !edited && this.#held.length === 0 && this.#partial.length === 0) return chunk;
    if (out.length === 0) return undefined;
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** The body ended: whatever was still held back (an event without its blank line). */
  finish(): Buffer | undefined {
    const out: Buffer[] | null = this.#strip ? [] : null;
    if (this.#partial.length > 0) this.#line(this.#takePartial(), out);
    if (this.#held.length > 0 || this.#data.length > 0) this.#endEvent(null, out);
    return out !== null && out.length > 0 ? Buffer.concat(out) : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out = this.process(chunk);
    if (out !== undefined) this.push(out);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const out = this.finish();
    if (out !== undefined) this.push(out);
    callback();
  }

  /** Splits a chunk into complete lines; returns whether anything was dropped or edited. */
  #scan(chunk: Buffer, out: Buffer[] | null): boolean {
    let edited = false;
    let at = 0;
    while (at < chunk.length) {
      const lf = chunk.indexOf(LF, at);
      if (lf === -1) {
        this.#partial.push(chunk.subarray(at));
        this.#partialBytes += chunk.length - at;
        break;
      }
      let line = chunk.subarray(at, lf + 1);
      if (this.#partial.length > 0) {
        this.#partial.push(line);
        line = this.#takePartial();
      }
      at = lf + 1;
      if (this.#line(line, out)) edited = true;
    }
    if (this.#strip && this.#heldBytes + this.#partialBytes > MAX_EVENT_BYTES) this.#stopStripping(out);
    return edited;
  }

  #takePartial(): Buffer {
    const line = this.#partial.length === 1 ? (this.#partial[0] as Buffer) : Buffer.concat(this.#partial);
    this.#partial = [];
    this.#partialBytes = 0;
    return line;
  }

  /** An event far too large to hold: pass what is held, and stop stripping for this stream. */
  #stopStripping(out: Buffer[] | null): void {
    this.#strip = false;
    if (out !== null) {
      out.push(...this.#held, ...this.#partial);
    }
    this.#held = [];
    this.#heldBytes = 0;
    this.#skipEvent = true;
  }

  #line(line: Buffer, out: Buffer[] | null): boolean {
    let end = line.length;
    if (line[end - 1] === LF) end--;
    if (end > 0 && line[end - 1] === CR) end--;
    if (end === 0) return this.#endEvent(line, out);

    if (this.#strip) {
      this.#held.push(line);
      this.#heldBytes += line.length;
    }
    if (this.#skipEvent) return false;
    if (startsWith(line, DATA)) {
      let start = DATA.length;
      if (line[start] === SPACE) start++;
      if (this.#data.length === 0 && this.#strip) {
        this.#dataLineIndex = this.#held.length - 1;
        this.#payloadStart = start;
        this.#payloadEnd = end;
      }
      this.#data.push(line.subarray(start, end));
      this.#dataBytes += end - start;
      if (this.#dataBytes > MAX_EVENT_BYTES) {
        this.#skipEvent = true;
        this.#data = [];
      }
    } else if (startsWith(line, EVENT)) {
      this.#eventName = line.toString('utf8', EVENT.length, end).trim();
    }
    return false;
  }

  /** At an event's blank line (null at the end of the body): reads it and, when stripping, emits it. */
  #endEvent(blank: Buffer | null, out: Buffer[] | null): boolean {
    const data = this.#data;
    const singleDataLine = data.length === 1;
    let verdict: Verdict = 'keep';
    if (!this.#skipEvent && data.length > 0) {
      const payload = singleDataLine ? (data[0] as Buffer) : joinLines(data);
      verdict = this.#inspect(payload, this.#strip && singleDataLine);
    }
    if (TERMINAL_EVENTS.has(this.#eventName)) this.#sawDone = true;

    let edited = false;
    if (out !== null) {
      if (verdict === 'drop') {
        edited = true;
      } else {
        if (verdict !== 'keep') {
          const line = this.#held[this.#dataLineIndex] as Buffer;
          this.#held[this.#dataLineIndex] = Buffer.concat([line.subarray(0, this.#payloadStart), verdict, line.subarray(this.#payloadEnd)]);
          edited = true;
        }
        out.push(...this.#held);
        if (blank !== null) out.push(blank);
      }
    }
    this.#held = [];
    this.#heldBytes = 0;
    this.#data = [];
    this.#dataBytes = 0;
    this.#dataLineIndex = -1;
    this.#eventName = '';
    this.#skipEvent = false;
    return edited;
  }

  /** Reads one event's data; when `editable`, says how the event must change for the client. */
  #inspect(payload: Buffer, editable: boolean): Verdict {
    if (payload.equals(DONE)) {
      this.#sawDone = true;
      return 'keep';
    }
    const kind = usageKind(payload);
    const wantsFirst = this.#firstTokenAt === undefined;
    if (!wantsFirst && kind === 'none') return 'keep';
    if (!wantsFirst && kind === 'null' && !editable) return 'keep';

    let parsed: unknown = UNPARSED;
    const parse = (): unknown => (parsed === UNPARSED ? (parsed = parseJson(payload)) : parsed);
    if (wantsFirst && isOutputEvent(parse())) this.#firstTokenAt = performance.now();
    const obj = kind === 'object' ? parse() : undefined;
    if (obj !== undefined) {
      const usage = usageFromEvent(obj);
      if (usage !== undefined) this.#usage = usage;
      if (isRecord(obj) && typeof obj.type === 'string' && TERMINAL_EVENTS.has(obj.type)) this.#sawDone = true;
      if (editable && usage !== undefined && isInjectedUsageChunk(obj)) return 'drop';
    }
    if (editable && kind !== 'none') {
      const stripped = removeNullUsage(payload);
      if (stripped !== payload) return stripped;
    }
    return 'keep';
  }
}

/** The chunk `stream_options.include_usage` adds at the end: no choices, a usage object. */
function isInjectedUsageChunk(obj: unknown): boolean {
  return isRecord(obj) && Array.isArray(obj.choices) && obj.choices.length === 0 && isRecord(obj.usage);
}

/** Whether an event carries generated output; see the class comment for the rule. */
export function isOutputEvent(obj: unknown): boolean {
  if (!isRecord(obj)) return false;
  if (typeof obj.type === 'string') return obj.type.endsWith('.delta');
  if (!Array.isArray(obj.choices)) return false;
  for (const choice of obj.choices) {
    if (!isRecord(choice)) continue;
    if (typeof choice.text === 'string' && choice.text !== '') return true;
    const delta = choice.delta;
    if (!isRecord(delta)) continue;
    for (const [key, value] of Object.entries(delta)) {
      if (key === 'role' || value === null || value === undefined || value === '') continue;
      if (Array.isArray(value) && value.length === 0) continue;
      return true;
    }
  }
  return false;
}

/**
 * What the `"usage"` keys of a payload hold, judged from the bytes alone: 'object' when any is
 * followed by `{`, else 'null' when any is followed by `null`, else 'none'. Lets most events skip
 * JSON.parse. (Inside a JSON string the quotes would be escaped, so `"usage"` then `:` is a key.)
 */
export function usageKind(payload: Buffer): 'none' | 'null' | 'object' {
  let kind: 'none' | 'null' = 'none';
  let at = payload.indexOf(USAGE);
  while (at !== -1) {
    let i = skipWs(payload, at + USAGE.length);
    if (payload[i] === 58 /* : */) {
      i = skipWs(payload, i + 1);
      if (payload[i] === 123 /* { */) return 'object';
      if (payload[i] === 110 /* n */) kind = 'null';
    }
    at = payload.indexOf(USAGE, at + USAGE.length);
  }
  return kind;
}

/**
 * Cuts every top-level `"usage":null` member out of a JSON object, with the comma that joined it,
 * keeping every other byte. Returns the same buffer when there is none (or the JSON is invalid).
 */
export function removeNullUsage(payload: Buffer): Buffer {
  const scan = scanJson(payload);
  if (!scan.ok || !scan.isObject) return payload;
  const { members } = scan;
  const cuts: [number, number][] = [];
  members.forEach((m, index) => {
    if (m.key !== 'usage' || m.valueEnd - m.valueStart !== 4 || payload[m.valueStart] !== 110 /* n */) return;
    const next = members[index + 1];
    const previous = members[index - 1];
    // Not last: take the text up to the next key (the comma after it). Last: from the end of the
    // previous value (the comma before it). Alone: just the member.
    if (next !== undefined) cuts.push([m.keyStart, next.keyStart]);
    else if (previous !== undefined) cuts.push([previous.valueEnd, m.valueEnd]);
    else cuts.push([m.keyStart, m.valueEnd]);
  });
  if (cuts.length === 0) return payload;
  const parts: Buffer[] = [];
  let at = 0;
  for (const [start, end] of cuts) {
    if (start < at) continue;
    parts.push(payload.subarray(at, start));
    at = end;
  }
  parts.push(payload.subarray(at));
  return Buffer.concat(parts);
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function joinLines(parts: readonly Buffer[]): Buffer {
  const pieces: Buffer[] = [];
  parts.forEach((part, index) => {
    if (index > 0) pieces.push(Buffer.from([LF]));
    pieces.push(part);
  });
  return Buffer.concat(pieces);
}

function startsWith(line: Buffer, prefix: Buffer): boolean {
  return line.length >= prefix.length && line.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

function skipWs(buf: Buffer, i: number): number {
  for (;;) {
    const c = buf[i];
    if (c === SPACE || c === LF || c === CR || c === 9) i++;
    else return i;
  }
}
