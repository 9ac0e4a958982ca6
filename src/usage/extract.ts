import { figuresFromCounts, type UsageFigures } from './record.js';
import { Byte, skipWs } from '../proxy/json-scan.js';
import { readUsageMember, UNREADABLE } from './usage-reader.js';

/**
 * Reads token usage from what a backend sent, whatever the endpoint (issue 5):
 * - chat completions and legacy completions: `usage.prompt_tokens`, `completion_tokens`,
 *   `prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`;
 * - embeddings: `usage.prompt_tokens` and `total_tokens` only;
 * - the Responses API, gpt-image-1 images and token-billed transcriptions: `usage.input_tokens`,
 *   `output_tokens`, `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`;
 * - Responses API stream events carry it one level down, in `response.usage`.
 * Transcriptions billed by duration (`usage.type: "duration"`) have no tokens and give nothing.
 * Nothing here throws: a body that is not JSON, or a usage of another shape, gives `undefined`.
 */

const USAGE_KEY = Buffer.from('"usage"');

/** How far from the end the key is looked for byte by byte; OpenAI's bodies end with `usage` and a few short members. */
const TAIL = 2048;

/**
 * `body.lastIndexOf(USAGE_KEY)`, with the last TAIL bytes searched in JavaScript: Buffer's native
 * search costs more to call than this loop costs to run over a usage near the end (issue 5 bench).
 */
function lastUsageKey(body: Buffer): number {
  const key = USAGE_KEY;
  const stop = Math.max(0, body.length - TAIL);
  for (let i = body.length - key.length; i >= stop; i--) {
    if (body[i] !== Byte.Quote || body[i + 1] !== key[1]) continue;
    let k = 2;
    while (k < key.length && body[i + k] === key[k]) k++;
    if (k === key.length) return i;
  }
  return stop === 0 ? -1 : body.lastIndexOf(key, stop - 1);
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Usage of a non-streamed JSON response body. */
export function usageFromJson(body: Buffer): UsageFigures | undefined {
  // Most bodies that carry no usage are skipped without parsing (large image or file bodies).
  const at = lastUsageKey(body);
  if (at === -1) return undefined;
  // The usage object alone is read when it can be cut out (OpenAI puts it last, at the top level):
  // from its bytes, or parsed when the byte reader leaves it to JSON.parse. Anything unusual falls
  // back to parsing the whole body.
  if (isObjectText(body) && !insideString(body, at)) {
    const read = readUsageMember(body, at + USAGE_KEY.length);
    if (read !== UNREADABLE) return read ?? parse(body, usageFromEvent);
    const object = objectAfterKey(body, at + USAGE_KEY.length);
    if (object !== undefined) {
      const figures = parse(object, toUsageFigures);
      if (figures !== undefined) return figures;
    }
  }
  return parse(body, usageFromEvent);
}

function parse(bytes: Buffer, read: (value: unknown) => UsageFigures | undefined): UsageFigures | undefined {
  try {
    return read(JSON.parse(bytes.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** Whether the body is written as one JSON object (`{` first and `}` last, spaces aside). */
function isObjectText(body: Buffer): boolean {
  const first = skipWs(body, 0);
  let last = body.length - 1;
  while (last > first && isSpace(body[last])) last--;
  return body[first] === Byte.LBrace && body[last] === Byte.RBrace;
}

/** The key found at `keyStart` sits inside a string: a backslash escapes its opening quote. */
function insideString(body: Buffer, keyStart: number): boolean {
  return keyStart > 0 && body[keyStart - 1] === Byte.Backslash;
}

/**
 * The `{…}` that follows a key at `from` (after optional spaces and a colon), cut at its matching
 * brace (strings and their escapes skipped); undefined when something else follows.
 */
function objectAfterKey(body: Buffer, from: number): Buffer | undefined {
  let i = skipWs(body, from);
  if (body[i] !== Byte.Colon) return undefined;
  i = skipWs(body, i + 1);
  if (body[i] !== Byte.LBrace) return undefined;
  const start = i;
  let depth = 0;
  for (; i < body.length; i++) {
    const c = body[i];
    if (c === Byte.Quote) {
      for (i++; i < body.length && body[i] !== Byte.Quote; i++) if (body[i] === Byte.Backslash) i++;
    } else if (c === Byte.LBrace) depth++;
    else if (c === Byte.RBrace && --depth === 0) return body.subarray(start, i + 1);
  }
  return undefined;
}

/** Usage of a parsed response object or stream event: its own `usage`, else `response.usage`. */
export function usageFromEvent(obj: unknown): UsageFigures | undefined {
  if (!isRecord(obj)) return undefined;
  const own = toUsageFigures(obj.usage);
  if (own !== undefined) return own;
  return isRecord(obj.response) ? toUsageFigures(obj.response.usage) : undefined;
}

/** Normalises one `usage` object of any of the shapes above. */
export function toUsageFigures(usage: unknown): UsageFigures | undefined {
  if (!isRecord(usage) || usage.type === 'duration') return undefined;
  return figuresFromCounts({
    prompt_tokens: count(usage.prompt_tokens),
    completion_tokens: count(usage.completion_tokens),
    total_tokens: count(usage.total_tokens),
    input_tokens: count(usage.input_tokens),
    output_tokens: count(usage.output_tokens),
    prompt_cache_hit_tokens: count(usage.prompt_cache_hit_tokens),
    prompt_cached: detail(usage.prompt_tokens_details, 'cached_tokens'),
    input_cached: detail(usage.input_tokens_details, 'cached_tokens'),
    completion_reasoning: detail(usage.completion_tokens_details, 'reasoning_tokens'),
    output_reasoning: detail(usage.output_tokens_details, 'reasoning_tokens'),
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function detail(details: unknown, name: string): number | undefined {
  return isRecord(details) ? count(details[name]) : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
}
