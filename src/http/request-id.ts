import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const VALID_REQUEST_ID = /^[\w.:@/+=-]{1,200}$/;

/** The client's x-request-id when it is a sane token, else a new UUID: sent upstream, returned, logged. */
export function toRequestId(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : newRequestId();
}

/** Random bytes for this many ids are drawn at a time, as crypto.randomUUID() does. */
const IDS_PER_DRAW = 128;
const pool = Buffer.allocUnsafe(16 * IDS_PER_DRAW);
let drawn = IDS_PER_DRAW;
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * A random (version 4) UUID, as crypto.randomUUID() makes, but as one flat string. randomUUID()
 * joins 20 pieces into a string tree of about 480 bytes, which V8 keeps as such until something
 * reads it whole; a usage record holds its request id until the store has written it, and the
 * queue keeps up to 100,000 records while a store is down: 48 MB of ids alone. This string is 36
 * bytes of text in one object (56 bytes on the heap), and is made a little faster (0.23 against
 * 0.27 µs with the header write, in a micro-benchmark).
 */
export function newRequestId(): string {
  if (drawn === IDS_PER_DRAW) {
    randomFillSync(pool);
    drawn = 0;
  }
  const at = 16 * drawn++;
  pool[at + 6] = ((pool[at + 6] as number) & 0x0f) | 0x40;
  pool[at + 8] = ((pool[at + 8] as number) & 0x3f) | 0x80;
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = 0x2d;
    const byte = pool[at + i] as number;
    text[o++] = HEX[byte >> 4] as number;
    text[o++] = HEX[byte & 15] as number;
  }
  return text.toString('latin1');
}
