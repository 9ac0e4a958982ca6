import { Byte, jsonValueEnd, skipWs } from '../proxy/json-scan.js';
import { figuresFromCounts, type UsageFigures } from './record.js';

/**
 * Reads a `usage` object straight from the response bytes, without decoding them to a string or
 * building objects (issue 5 bench: cutting the object out, decoding it and JSON.parse cost about
 * 0.7 µs per request; this about 0.15 µs).
 *
 * It is a fast path in front of `toUsageFigures(JSON.parse(…))` and agrees with it: whenever it
 * returns figures, or `undefined` for a usage without token counts, the JSON.parse route gives the
 * same. What it does not handle it hands back as UNREADABLE, and the caller parses: invalid JSON
 * anywhere in the object, a count that is not a plain integer (a fraction, an exponent, a minus
 * sign, more than 15 digits), an escape in a key or in the value of `type`. Members it does not
 * need are checked for JSON syntax and passed over.
 */
export const UNREADABLE = Symbol('unreadable');
export type UsageReading = UsageFigures | undefined | typeof UNREADABLE;

/** The members the figures are made of. */
const enum Slot {
  Prompt,
  Completion,
  Total,
  Input,
  Output,
  CacheHit,
  Type,
  PromptDetails,
  CompletionDetails,
  InputDetails,
  OutputDetails,
}

const TOP_KEYS: readonly (readonly [Uint8Array, Slot])[] = [
  [ascii('prompt_tokens'), Slot.Prompt],
  [ascii('completion_tokens'), Slot.Completion],
  [ascii('total_tokens'), Slot.Total],
  [ascii('input_tokens'), Slot.Input],
  [ascii('output_tokens'), Slot.Output],
  [ascii('prompt_cache_hit_tokens'), Slot.CacheHit],
  [ascii('type'), Slot.Type],
  [ascii('prompt_tokens_details'), Slot.PromptDetails],
  [ascii('completion_tokens_details'), Slot.CompletionDetails],
  [ascii('input_tokens_details'), Slot.InputDetails],
  [ascii('output_tokens_details'), Slot.OutputDetails],
];
const CACHED = ascii('cached_tokens');
const REASONING = ascii('reasoning_tokens');
const DURATION = ascii('"duration"');

/** 15 digits stay exact in a double. */
const MAX_DIGITS = 15;
/** A member that is absent, or whose value is no count (`count()` in extract.ts gives undefined). */
const NONE = -1;
/** Offsets are never negative: this one says the reader gives up. */
const GIVE_UP = -1;

/** Reads the value of a `"usage"` key whose closing quote ends just before `afterKey`. */
export function readUsageMember(buf: Uint8Array, afterKey: number): UsageReading {
  const colon = skipWs(buf, afterKey);
  if (buf[colon] !== Byte.Colon) return UNREADABLE;
  return readUsageObject(buf, skipWs(buf, colon + 1));
}

/** Reads the object that starts at `start` (its `{`). */
export function readUsageObject(buf: Uint8Array, start: number): UsageReading {
  const slots = [NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE];
  let duration = false;
  const end = eachMember(buf, start, (keyStart, keyEnd, at) => {
    const slot = slotOf(buf, keyStart, keyEnd);
    if (slot === undefined) return jsonValueEnd(buf, at);
    if (slot === Slot.Type) {
      const valueEnd = jsonValueEnd(buf, at);
      // The last `type` decides, as with JSON.parse; an escaped spelling is left to it.
      if (valueEnd === GIVE_UP || (buf[at] === Byte.Quote && buf.subarray(at, valueEnd).includes(Byte.Backslash))) return GIVE_UP;
      duration = equals(buf, at, valueEnd, DURATION);
      return valueEnd;
    }
    const read = slot === Slot.PromptDetails || slot === Slot.InputDetails ? detailCount(buf, at, CACHED) : slot === Slot.CompletionDetails || slot === Slot.OutputDetails ? detailCount(buf, at, REASONING) : count(buf, at);
    slots[slot] = read.value;
    return read.end;
  });
  if (end === GIVE_UP) return UNREADABLE;
  if (duration) return undefined;
  return figuresFromCounts({
    prompt_tokens: counted(slots[Slot.Prompt]),
    completion_tokens: counted(slots[Slot.Completion]),
    total_tokens: counted(slots[Slot.Total]),
    input_tokens: counted(slots[Slot.Input]),
    output_tokens: counted(slots[Slot.Output]),
    prompt_cache_hit_tokens: counted(slots[Slot.CacheHit]),
    prompt_cached: counted(slots[Slot.PromptDetails]),
    input_cached: counted(slots[Slot.InputDetails]),
    completion_reasoning: counted(slots[Slot.CompletionDetails]),
    output_reasoning: counted(slots[Slot.OutputDetails]),
  });
}

/**
 * Walks the object at `start`: for each member, `onMember` gets its key's bytes [keyStart, keyEnd)
 * (quotes excluded) and the value's offset, and returns the offset past the value (GIVE_UP stops).
 * Returns the offset past the closing brace, or GIVE_UP.
 */
function eachMember(buf: Uint8Array, start: number, onMember: (keyStart: number, keyEnd: number, at: number) => number): number {
  if (buf[start] !== Byte.LBrace) return GIVE_UP;
  let i = skipWs(buf, start + 1);
  if (buf[i] === Byte.RBrace) return i + 1;
  for (;;) {
    if (buf[i] !== Byte.Quote) return GIVE_UP;
    const keyEnd = plainStringEnd(buf, i + 1);
    if (keyEnd === GIVE_UP) return GIVE_UP;
    const colon = skipWs(buf, keyEnd + 1);
    if (buf[colon] !== Byte.Colon) return GIVE_UP;
    const valueEnd = onMember(i + 1, keyEnd, skipWs(buf, colon + 1));
    if (valueEnd === GIVE_UP) return GIVE_UP;
    i = skipWs(buf, valueEnd);
    if (buf[i] === Byte.RBrace) return i + 1;
    if (buf[i] !== Byte.Comma) return GIVE_UP;
    i = skipWs(buf, i + 1);
  }
}

/** The offset of the closing quote of a string without escapes or control bytes, from just past its opening quote. */
function plainStringEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i] as number;
    if (c === Byte.Quote) return i;
    if (c === Byte.Backslash || c < 0x20) return GIVE_UP;
  }
  return GIVE_UP;
}

function slotOf(buf: Uint8Array, keyStart: number, keyEnd: number): Slot | undefined {
  for (const [name, slot] of TOP_KEYS) if (equals(buf, keyStart, keyEnd, name)) return slot;
  return undefined;
}

interface Read {
  readonly value: number;
  readonly end: number;
}

/** A count: a plain integer, or NONE for a value of another kind (null, a string); GIVE_UP for any other number. */
function count(buf: Uint8Array, at: number): Read {
  const first = buf[at];
  if (first === undefined || first < Byte.Zero || first > Byte.Nine) {
    // A negative number is no count, but its spelling is left to JSON.parse to judge.
    return { value: NONE, end: first === Byte.Minus ? GIVE_UP : jsonValueEnd(buf, at) };
  }
  let i = at;
  let n = 0;
  for (let c = first; c >= Byte.Zero && c <= Byte.Nine; c = buf[++i] ?? 0) n = n * 10 + (c - Byte.Zero);
  const digits = i - at;
  const next = buf[i];
  const plain = digits <= MAX_DIGITS && (first !== Byte.Zero || digits === 1) && next !== Byte.Dot && next !== Byte.LowerE && next !== Byte.UpperE;
  return { value: n, end: plain ? i : GIVE_UP };
}

/** One count of a details object (`name`); NONE when it is missing or the value is no object. */
function detailCount(buf: Uint8Array, at: number, name: Uint8Array): Read {
  if (buf[at] !== Byte.LBrace) return { value: NONE, end: jsonValueEnd(buf, at) };
  let value = NONE;
  const end = eachMember(buf, at, (keyStart, keyEnd, valueAt) => {
    if (!equals(buf, keyStart, keyEnd, name)) return jsonValueEnd(buf, valueAt);
    // The last of duplicate keys wins, as with JSON.parse.
    const read = count(buf, valueAt);
    value = read.value;
    return read.end;
  });
  return { value, end };
}

/** A slot's count for figuresFromCounts: NONE (missing, or no count) is undefined. */
function counted(n: number | undefined): number | undefined {
  return n === NONE ? undefined : n;
}

function equals(buf: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let k = 0; k < expected.length; k++) if (buf[start + k] !== expected[k]) return false;
  return true;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}
