import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toUsageFigures, usageFromEvent, usageFromJson } from '../../src/usage/extract.js';
import type { UsageFigures } from '../../src/usage/record.js';

function figures(prompt: number, completion: number, cached: number, reasoning: number, total: number): UsageFigures {
  return { prompt_tokens: prompt, completion_tokens: completion, cached_tokens: cached, reasoning_tokens: reasoning, total_tokens: total };
}

const BODIES: readonly [string, unknown, UsageFigures | undefined][] = [
  [
    'a chat completion with cached and reasoning details',
    {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 1200,
        completion_tokens: 300,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 256, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
    },
    figures(1200, 300, 1024, 256, 1500),
  ],
  ['a chat completion without details', { object: 'chat.completion', usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 } }, figures(9, 12, 0, 0, 21)],
  [
    'a legacy completion',
    { object: 'text_completion', choices: [{ text: 'x', index: 0 }], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } },
    figures(5, 7, 0, 0, 12),
  ],
  [
    'embeddings (prompt and total only)',
    { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], usage: { prompt_tokens: 8, total_tokens: 8 } },
    figures(8, 0, 0, 0, 8),
  ],
  [
    'a Responses API response',
    {
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      usage: {
        input_tokens: 2000,
        input_tokens_details: { cached_tokens: 1500 },
        output_tokens: 500,
        output_tokens_details: { reasoning_tokens: 400 },
        total_tokens: 2500,
      },
    },
    figures(2000, 500, 1500, 400, 2500),
  ],
  [
    'a gpt-image-1 image generation',
    {
      created: 1,
      data: [{ b64_json: 'aGVsbG8=' }],
      usage: { input_tokens: 50, output_tokens: 4160, total_tokens: 4210, input_tokens_details: { text_tokens: 40, image_tokens: 10 } },
    },
    figures(50, 4160, 0, 0, 4210),
  ],
  [
    'a token-billed transcription',
    { text: 'hello', usage: { type: 'tokens', input_tokens: 14, output_tokens: 45, total_tokens: 59, input_token_details: { text_tokens: 0, audio_tokens: 14 } } },
    figures(14, 45, 0, 0, 59),
  ],
  ['a duration-billed transcription gives nothing', { text: 'hello', usage: { type: 'duration', seconds: 3 } }, undefined],
  ['a dall-e-2 image (no usage)', { created: 1, data: [{ url: 'https://example.test/a.png' }] }, undefined],
  ['a usage of null', { object: 'chat.completion', usage: null }, undefined],
  ['a usage of an unknown shape', { usage: { words: 12 } }, undefined],
  ['a usage that is an array', { usage: [1, 2] }, undefined],
  ['negative and non-numeric counts are ignored', { usage: { prompt_tokens: -3, completion_tokens: '4', total_tokens: 10 } }, figures(10, 0, 0, 0, 10)],
  ['a total computed when missing', { usage: { prompt_tokens: 3, completion_tokens: 4 } }, figures(3, 4, 0, 0, 7)],
  ['DeepSeek cache hits', { usage: { prompt_tokens: 100, completion_tokens: 1, total_tokens: 101, prompt_cache_hit_tokens: 64 } }, figures(100, 1, 64, 0, 101)],
  ['an error body', { error: { message: 'nope', type: 'invalid_request_error', code: null, param: null } }, undefined],
];

for (const [name, body, expected] of BODIES) {
  test(`usageFromJson: ${name}`, () => {
    assert.deepEqual(usageFromJson(Buffer.from(JSON.stringify(body))), expected);
  });
}

const GARBAGE: readonly [string, string][] = [
  ['an empty body', ''],
  ['invalid JSON that mentions usage', '{"usage": {"prompt_tokens": 3'],
  ['a JSON string', '"usage"'],
  ['a JSON array', '[{"usage":{"prompt_tokens":1}}]'],
  ['null', 'null'],
  ['binary bytes', '\u0000\u00ff"usage"\u0001'],
  ['an SSE stream by mistake', 'data: {"usage":{"prompt_tokens":1}}\n\n'],
];

for (const [name, text] of GARBAGE) {
  test(`usageFromJson does not throw on ${name}`, () => {
    assert.equal(usageFromJson(Buffer.from(text, 'latin1')), undefined);
  });
}

test('usageFromJson keeps the last of duplicate usage keys, as JSON.parse does', () => {
  const body = '{"usage":{"prompt_tokens":1,"completion_tokens":1},"usage":{"prompt_tokens":2,"completion_tokens":3}}';
  assert.deepEqual(usageFromJson(Buffer.from(body)), figures(2, 3, 0, 0, 5));
});

const EVENTS: readonly [string, unknown, UsageFigures | undefined][] = [
  [
    'a chat chunk with usage',
    { object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } },
    figures(3, 5, 0, 0, 8),
  ],
  ['a chat chunk with usage null', { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'x' } }], usage: null }, undefined],
  [
    'response.completed',
    { type: 'response.completed', sequence_number: 9, response: { id: 'resp_1', status: 'completed', usage: { input_tokens: 10, output_tokens: 20, total_tokens: 30 } } },
    figures(10, 20, 0, 0, 30),
  ],
  ['response.created (usage null)', { type: 'response.created', response: { id: 'resp_1', usage: null } }, undefined],
  ['response.output_text.delta', { type: 'response.output_text.delta', delta: 'Hi' }, undefined],
  [
    'transcript.text.done',
    { type: 'transcript.text.done', text: 'hi', usage: { type: 'tokens', input_tokens: 7, output_tokens: 2, total_tokens: 9 } },
    figures(7, 2, 0, 0, 9),
  ],
  ['a number', 42, undefined],
  ['undefined', undefined, undefined],
];

for (const [name, event, expected] of EVENTS) {
  test(`usageFromEvent: ${name}`, () => {
    assert.deepEqual(usageFromEvent(event), expected);
  });
}

test('toUsageFigures rounds fractional counts', () => {
  assert.deepEqual(toUsageFigures({ prompt_tokens: 2.6, completion_tokens: 1.2 }), figures(3, 1, 0, 0, 4));
});

test('usageFromJson reads a usage object cut out of a large body, and ignores a "usage" inside a string', () => {
  const content = 'x'.repeat(200_000) + ' \\"usage\\": {\\"prompt_tokens\\": 999}';
  const body = Buffer.from(`{"id":"c","choices":[{"message":{"content":"${content}"}}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`);
  assert.deepEqual(usageFromJson(body), { prompt_tokens: 3, completion_tokens: 4, cached_tokens: 0, reasoning_tokens: 0, total_tokens: 7 });
  const quotedOnly = Buffer.from(`{"id":"c","choices":[{"message":{"content":"${content}"}}]}`);
  assert.equal(usageFromJson(quotedOnly), undefined);
});

test('usageFromJson finds usage anywhere: near the end, and far from it (a long member after it)', () => {
  const usage = '"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}';
  const expected = { prompt_tokens: 3, completion_tokens: 4, cached_tokens: 0, reasoning_tokens: 0, total_tokens: 7 };
  for (const after of [0, 1, 2030, 2041, 2042, 2048, 2060, 10_000]) {
    const body = Buffer.from(`{"id":"c",${usage},"pad":"${'p'.repeat(after)}"}`);
    assert.deepEqual(usageFromJson(body), expected, `with ${after} bytes after it`);
  }
  // Two usage keys on either side of the searched tail: the last one counts, as with JSON.parse.
  const twice = Buffer.from(`{"usage":{"prompt_tokens":1},"pad":"${'p'.repeat(3000)}","usage":{"prompt_tokens":2}}`);
  assert.deepEqual(usageFromJson(twice), { prompt_tokens: 2, completion_tokens: 0, cached_tokens: 0, reasoning_tokens: 0, total_tokens: 2 });
});
