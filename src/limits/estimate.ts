/**
 * The token estimate a request reserves against tpm and token budgets before it is sent (issue 5);
 * settle() replaces it with the real usage when the response ends, so the estimate only has to be
 * cheap and in the right range, never exact:
 *
 *   prompt  = ceil(body bytes / 4), where each inline `data:…;base64,` string (an image, audio or
 *             file) counts as DATA_URL_TOKENS instead of its size, since base64 bytes say nothing
 *             about tokens (a 1 MB image is ~765 tokens, not 250 000);
 *   output  = max_tokens | max_completion_tokens | max_output_tokens (the largest present), times
 *             `n` when several choices are asked for; DEFAULT_OUTPUT_TOKENS (0) when none is set:
 *             output is then counted when it happens, at settle().
 *
 * Non-JSON bodies (multipart uploads: audio, images, files) estimate 0: their size is no measure
 * of tokens, and whatever usage the response reports settles it.
 *
 * Cost: native Buffer.indexOf searches only, no JSON.parse and no byte loop in JavaScript, so a
 * large body costs microseconds. The price is that a member of the same name nested deeper (say,
 * `"max_tokens": 100` inside metadata) is counted too; that errs on reserving more, and settles.
 */

export const DEFAULT_OUTPUT_TOKENS = 0;
export const DATA_URL_TOKENS = 765;

const OUTPUT_FIELDS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'].map((k) => Buffer.from(`"${k}"`));
const N_FIELD = Buffer.from('"n"');
const DATA_URL = Buffer.from('"data:');
const BASE64_MARK = Buffer.from(';base64,');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** How far into a data URL `;base64,` may appear (media type and parameters). */
const MEDIA_TYPE_SPAN = 200;
const MAX_N = 128;

export function estimateTokens(body: Buffer | null, json: boolean): number {
  if (body === null || body.length === 0 || !json) return 0;
  return Math.ceil(promptBytes(body) / 4) + outputTokens(body);
}

/** Body size with each inline base64 data URL replaced by the bytes of DATA_URL_TOKENS tokens. */
function promptBytes(body: Buffer): number {
  let bytes = body.length;
  let from = 0;
  for (;;) {
    const start = body.indexOf(DATA_URL, from);
    if (start === -1) return bytes;
    const end = closingQuote(body, start + 1);
    if (end === -1) return bytes;
    const mark = body.indexOf(BASE64_MARK, start);
    if (mark !== -1 && mark < end && mark - start <= MEDIA_TYPE_SPAN) bytes += DATA_URL_TOKENS * 4 - (end + 1 - start);
    from = end + 1;
  }
}

/** The offset of the quote that closes the string opened at `open`; -1 when there is none. */
function closingQuote(body: Buffer, open: number): number {
  let at = open + 1;
  for (;;) {
    const q = body.indexOf(QUOTE, at);
    if (q === -1) return -1;
    let backslashes = 0;
    for (let k = q - 1; k > open && body[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    at = q + 1;
  }
}

function outputTokens(body: Buffer): number {
  let max = -1;
  for (const field of OUTPUT_FIELDS) max = Math.max(max, largestNumberAfter(body, field));
  if (max < 0) return DEFAULT_OUTPUT_TOKENS;
  const n = largestNumberAfter(body, N_FIELD);
  return max * (n > 1 ? Math.min(n, MAX_N) : 1);
}

/** The largest non-negative integer written as `"field": 123` anywhere in the body; -1 when none. */
function largestNumberAfter(body: Buffer, field: Buffer): number {
  let best = -1;
  let from = 0;
  for (;;) {
    const at = body.indexOf(field, from);
    if (at === -1) return best;
    from = at + field.length;
    let i = skipWs(body, from);
    if (body[i] !== 0x3a /* : */) continue;
    i = skipWs(body, i + 1);
    let value = 0;
    let digits = 0;
    for (let c = body[i]; c !== undefined && c >= 0x30 && c <= 0x39 && digits < 12; c = body[++i]) {
      value = value * 10 + (c - 0x30);
      digits++;
    }
    if (digits > 0) best = Math.max(best, value);
  }
}

function skipWs(body: Buffer, i: number): number {
  for (let c = body[i]; c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = body[++i]);
  return i;
}
