/**
 * A validating, non-recursive JSON scanner over raw bytes. It checks the whole grammar (RFC 8259)
 * and reports where each top-level member of an object sits, so the model can be rewritten in place
 * without parsing and re-serializing the body: key order, number spellings, escapes, whitespace and
 * unknown fields all survive. Depth is tracked with a counter stack, so deep nesting cannot overflow.
 */

export interface JsonMember {
  /** Offset of the key's opening quote. */
  readonly keyStart: number;
  /** The decoded key. */
  readonly key: string;
  readonly valueStart: number;
  /** Offset just past the value. */
  valueEnd: number;
}

export type JsonScan =
  | { readonly ok: true; readonly isObject: boolean; readonly members: JsonMember[] }
  | { readonly ok: false; readonly offset: number };

/** The bytes JSON's grammar is made of. */
export const enum Byte {
  Tab = 9, Lf = 10, Cr = 13, Space = 32, Quote = 34, Plus = 43, Comma = 44, Minus = 45, Dot = 46,
  Zero = 48, Nine = 57, Colon = 58, UpperE = 69, LBracket = 91, Backslash = 92, RBracket = 93,
  LowerE = 101, LBrace = 123, RBrace = 125,
}

const OBJECT = 1;
const ARRAY = 2;

class Invalid extends Error {
  constructor(readonly offset: number) {
    super('invalid JSON');
  }
}

/** Whether a scanned member's value is spelt exactly `word` (`true`, `null`, …). */
export function isLiteral(buf: Uint8Array, m: JsonMember, word: string): boolean {
  if (m.valueEnd - m.valueStart !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (buf[m.valueStart + k] !== word.charCodeAt(k)) return false;
  return true;
}

export function scanJson(buf: Uint8Array): JsonScan {
  try {
    return scan(buf);
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, offset: err.offset };
    throw err;
  }
}

function scan(buf: Uint8Array): JsonScan {
  const start = skipWs(buf, 0);
  const isObject = buf[start] === Byte.LBrace;
  const members: JsonMember[] = [];
  const end = skipWs(buf, walk(buf, start, isObject ? members : null));
  if (end !== buf.length) throw new Invalid(end);
  return { ok: true, isObject, members };
}

/**
 * Offset just past the JSON value that starts at `start` (no spaces before it), or -1 when no valid
 * value starts there. What follows the value is not looked at.
 */
export function jsonValueEnd(buf: Uint8Array, start: number): number {
  try {
    return walk(buf, start, null);
  } catch (err) {
    if (err instanceof Invalid) return -1;
    throw err;
  }
}

/**
 * Validates the value at `i` and returns the offset just past it. When `members` is given (the value
 * is an object), its top-level members are recorded there.
 */
function walk(buf: Uint8Array, i: number, members: JsonMember[] | null): number {
  const n = buf.length;
  const stack: number[] = [];
  let pending = null as JsonMember | null;

  // expectValue → (container open | scalar) → afterValue → (',' | close) → ...
  value: for (;;) {
    if (i >= n) throw new Invalid(i);
    const c = buf[i] as number;
    if (c === Byte.LBrace) {
      stack.push(OBJECT);
      i = skipWs(buf, i + 1);
      if (buf[i] === Byte.RBrace) {
        stack.pop();
        i++;
      } else {
        i = readKey(buf, i, stack.length === 1 ? members : null);
        if (stack.length === 1 && members !== null) pending = members[members.length - 1] ?? null;
        continue value;
      }
    } else if (c === Byte.LBracket) {
      stack.push(ARRAY);
      i = skipWs(buf, i + 1);
      if (buf[i] === Byte.RBracket) {
        stack.pop();
        i++;
      } else continue value;
    } else if (c === Byte.Quote) {
      i = skipString(buf, i);
    } else if (c === Byte.Minus || (c >= Byte.Zero && c <= Byte.Nine)) {
      i = skipNumber(buf, i);
    } else if (c === 116 /* t */) {
      i = expectLiteral(buf, i, 'true');
    } else if (c === 102 /* f */) {
      i = expectLiteral(buf, i, 'false');
    } else if (c === 110 /* n */) {
      i = expectLiteral(buf, i, 'null');
    } else {
      throw new Invalid(i);
    }

    // afterValue: close as many containers as end here.
    for (;;) {
      if (stack.length === 1 && pending !== null) {
        pending.valueEnd = i;
        pending = null;
      }
      const top = stack[stack.length - 1];
      if (top === undefined) return i;
      i = skipWs(buf, i);
      const d = buf[i];
      if (d === Byte.Comma) {
        i = skipWs(buf, i + 1);
        if (top === OBJECT) {
          i = readKey(buf, i, stack.length === 1 ? members : null);
          if (stack.length === 1 && members !== null) pending = members[members.length - 1] ?? null;
        }
        continue value;
      }
      if ((top === OBJECT && d === Byte.RBrace) || (top === ARRAY && d === Byte.RBracket)) {
        stack.pop();
        i++;
        continue;
      }
      throw new Invalid(i);
    }
  }
}

/** Reads `"key" :` and returns the offset of the value. Records the member in `members` when given. */
function readKey(buf: Uint8Array, i: number, members: JsonMember[] | null): number {
  if (buf[i] !== Byte.Quote) throw new Invalid(i);
  const keyStart = i;
  const keyEnd = skipString(buf, i);
  i = skipWs(buf, keyEnd);
  if (buf[i] !== Byte.Colon) throw new Invalid(i);
  i = skipWs(buf, i + 1);
  if (members !== null) {
    members.push({ keyStart, key: decodeString(buf, keyStart, keyEnd), valueStart: i, valueEnd: -1 });
  }
  return i;
}

/** Offset of the first byte at or after `i` that is not JSON whitespace. */
export function skipWs(buf: Uint8Array, i: number): number {
  for (;;) {
    const c = buf[i];
    if (c === Byte.Space || c === Byte.Lf || c === Byte.Cr || c === Byte.Tab) i++;
    else return i;
  }
}

/** From an opening quote to just past the closing one, validating escapes and control bytes. */
function skipString(buf: Uint8Array, i: number): number {
  const n = buf.length;
  i++;
  for (;;) {
    if (i >= n) throw new Invalid(i);
    const c = buf[i] as number;
    if (c === Byte.Quote) return i + 1;
    if (c < 0x20) throw new Invalid(i);
    if (c === Byte.Backslash) {
      const e = buf[i + 1];
      if (e === 117 /* u */) {
        for (let k = 2; k < 6; k++) if (!isHex(buf[i + k])) throw new Invalid(i + k);
        i += 6;
      } else if (e === Byte.Quote || e === Byte.Backslash || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) {
        i += 2;
      } else {
        throw new Invalid(i + 1);
      }
    } else {
      i++;
    }
  }
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= Byte.Zero && c <= Byte.Nine) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102));
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= Byte.Zero && c <= Byte.Nine;
}

function skipNumber(buf: Uint8Array, i: number): number {
  if (buf[i] === Byte.Minus) i++;
  if (buf[i] === Byte.Zero) i++;
  else if (isDigit(buf[i])) while (isDigit(buf[i])) i++;
  else throw new Invalid(i);
  if (buf[i] === Byte.Dot) {
    i++;
    if (!isDigit(buf[i])) throw new Invalid(i);
    while (isDigit(buf[i])) i++;
  }
  if (buf[i] === Byte.LowerE || buf[i] === Byte.UpperE) {
    i++;
    if (buf[i] === Byte.Plus || buf[i] === Byte.Minus) i++;
    if (!isDigit(buf[i])) throw new Invalid(i);
    while (isDigit(buf[i])) i++;
  }
  return i;
}

function expectLiteral(buf: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word.charCodeAt(k)) throw new Invalid(i + k);
  return i + word.length;
}

/** Decodes a JSON string token (quotes included) already validated by skipString. */
export function decodeString(buf: Uint8Array, start: number, end: number): string {
  const raw = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
  return raw.includes(Byte.Backslash) ? (JSON.parse(raw.toString('utf8')) as string) : raw.toString('utf8', 1, raw.length - 1);
}
