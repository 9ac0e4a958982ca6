import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toUsageFigures, usageFromJson } from '../../src/usage/extract.js';
import type { UsageFigures } from '../../src/usage/record.js';
import { readUsageObject, UNREADABLE, type UsageReading } from '../../src/usage/usage-reader.js';

/**
 * The byte reader is a fast path in front of `toUsageFigures(JSON.parse(…))`: on every object it
 * reads, it must give what the parse gives, and hand back UNREADABLE on any object JSON.parse
 * rejects. Like the cut it replaces, it reads the object up to its closing brace and no further:
 * the reference is the shortest prefix of the text that parses as an object.
 */
function byParse(text: string): UsageFigures | undefined | 'invalid' {
  for (let end = text.indexOf('}') + 1; end > 0; end = text.indexOf('}', end) + 1) {
    let value: unknown;
    try {
      value = JSON.parse(text.slice(0, end));
    } catch {
      continue;
    }
    return toUsageFigures(value);
  }
  return 'invalid';
}

function read(text: string): UsageReading {
  const buf = Buffer.from(text);
  let start = 0;
  while (buf[start] === 0x20 || buf[start] === 0x0a) start++;
  return readUsageObject(buf, start);
}

/** xorshift32: the generated cases are the same on every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const KEYS = [
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'input_tokens',
  'output_tokens',
  'prompt_cache_hit_tokens',
  'type',
  'prompt_tokens_details',
  'completion_tokens_details',
  'input_tokens_details',
  'output_tokens_details',
  'cached_tokens',
  'reasoning_tokens',
  'seconds',
  'audio_tokens',
  'prompt',
];

function generate(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const space = (): string => pick(['', '', '', ' ', '\n  ', '\t', ' \r\n']);
  const value = (depth: number): string => {
    const kind = random();
    if (kind < 0.45) return String(pick([0, 1, 7, 48, 1200, 999_999, 123_456_789_012_345]));
    if (kind < 0.5) return pick(['-3', '0.5', '2.0', '1e3', '12E+1', '-0', '1234567890123456', '00', '01', '-', '1.', '.5', '1e']);
    if (kind < 0.58) return pick(['"tokens"', '"duration"', '"dura\\u0074ion"', '"4"', '"a\\"b"', '"\\n"', '""', '"\\x"', '"bad\u0001"']);
    if (kind < 0.65) return pick(['null', 'true', 'false', 'nul', 'True']);
    if (kind < 0.72 && depth < 3) return `[${space()}${Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1)).join(`,${space()}`)}${space()}]`;
    if (depth < 3) return object(depth + 1);
    return '0';
  };
  const object = (depth: number): string => {
    const n = Math.floor(random() * 6);
    const members = Array.from({ length: n }, () => {
      const key = random() < 0.05 ? pick(['prompt\\u005ftokens', 'tot"al', 'x\\ty']) : pick(KEYS);
      return `${space()}"${key}"${space()}:${space()}${value(depth)}${space()}`;
    });
    return `{${members.join(',')}${n === 0 ? space() : ''}}`;
  };
  let text = object(0);
  // One case in five gets broken somewhere: a byte dropped, doubled or replaced.
  if (random() < 0.2 && text.length > 2) {
    const at = Math.floor(random() * text.length);
    const how = random();
    const ch = pick([',', ':', '"', '{', '}', '[', ']', '\\', 'x', '1', ' ']);
    text = how < 0.33 ? text.slice(0, at) + text.slice(at + 1) : how < 0.66 ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + ch + text.slice(at + 1);
  }
  return text;
}

test('the byte reader agrees with JSON.parse on 20,000 generated usage objects, valid and broken', () => {
  const random = prng(0x5eed);
  let readCount = 0;
  let invalid = 0;
  for (let n = 0; n < 20_000; n++) {
    const text = generate(random);
    const expected = byParse(text);
    const got = read(text);
    if (expected === 'invalid') {
      invalid++;
      assert.equal(got, UNREADABLE, `reader accepted text JSON.parse rejects: ${text}`);
    } else if (got !== UNREADABLE) {
      readCount++;
      assert.deepEqual(got, expected, `reader and JSON.parse differ on: ${text}`);
    }
  }
  // The generator makes both kinds in numbers, and the reader reads most valid objects itself.
  assert.ok(invalid > 2_000, `only ${invalid} invalid cases`);
  assert.ok(readCount > 10_000, `the reader read only ${readCount} objects`);
});

const CASES: readonly [string, string, UsageReading][] = [
  ['a chat usage', '{"prompt_tokens":48,"completion_tokens":62,"total_tokens":110}', { prompt_tokens: 48, completion_tokens: 62, cached_tokens: 0, reasoning_tokens: 0, total_tokens: 110 }],
  [
    'details, spaced out',
    '{ "prompt_tokens" : 1200 , "completion_tokens": 300, "total_tokens": 1500,\n "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},\n "completion_tokens_details": {"reasoning_tokens": 256, "accepted_prediction_tokens": 0} }',
    { prompt_tokens: 1200, completion_tokens: 300, cached_tokens: 1024, reasoning_tokens: 256, total_tokens: 1500 },
  ],
  ['a duration-billed transcription', '{"type":"duration","seconds":3}', undefined],
  ['no token counts', '{"words":12}', undefined],
  ['a fraction is left to JSON.parse', '{"prompt_tokens":2.6}', UNREADABLE],
  ['a negative count is left to JSON.parse', '{"prompt_tokens":-3,"total_tokens":10}', UNREADABLE],
  ['an escaped key is left to JSON.parse', '{"prompt\\u005ftokens":3}', UNREADABLE],
  ['a truncated object', '{"prompt_tokens":3', UNREADABLE],
];

for (const [name, text, expected] of CASES) {
  test(`readUsageObject: ${name}`, () => {
    assert.deepEqual(read(text), expected);
  });
}

test('usageFromJson gives the JSON.parse answer where the reader gives up', () => {
  const body = (usage: string): Buffer => Buffer.from(`{"id":"x","usage":${usage}}`);
  assert.deepEqual(usageFromJson(body('{"prompt_tokens":2.6,"completion_tokens":1.2}')), { prompt_tokens: 3, completion_tokens: 1, cached_tokens: 0, reasoning_tokens: 0, total_tokens: 4 });
  assert.deepEqual(usageFromJson(body('{"prompt\\u005ftokens":5,"type":"dura\\u0074ion"}')), undefined);
  assert.deepEqual(usageFromJson(body('{"prompt\\u005ftokens":5}')), { prompt_tokens: 5, completion_tokens: 0, cached_tokens: 0, reasoning_tokens: 0, total_tokens: 5 });
});
