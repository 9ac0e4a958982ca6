import assert from 'node:assert/strict';
import { finished } from 'node:stream/promises';
import { test } from 'node:test';
import { SseUsageTap, isOutputEvent, removeNullUsage, usageKind } from '../../src/usage/sse-usage.js';

const USAGE = {
  prompt_tokens: 19,
  completion_tokens: 10,
  total_tokens: 29,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};
const FIGURES = { prompt_tokens: 19, completion_tokens: 10, cached_tokens: 0, reasoning_tokens: 0, total_tokens: 29 };

/**
 * A chat stream as OpenAI sends it. With include_usage, every chunk ends in `"usage":null` and one
 * more chunk, with no choices and the usage, comes before [DONE]. Without it, neither is there.
 */
function chatStream(includeUsage: boolean, eol = '\n'): string {
  const head = { id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', service_tier: 'default', system_fingerprint: 'fp_eb9dce56a8' };
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ ...head, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}${eol}${eol}`;
  const delta = (d: Record<string, unknown>, finish: string | null = null): unknown[] => [{ index: 0, delta: d, logprobs: null, finish_reason: finish }];
  let out = chunk(delta({ role: 'assistant', content: '', refusal: null }));
  for (const piece of ['Hel', 'lo', ', wörld', ' 😀', '\n"quoted" usage']) out += chunk(delta({ content: piece }));
  out += chunk(delta({}, 'stop'));
  if (includeUsage) out += `data: ${JSON.stringify({ ...head, choices: [], usage: USAGE })}${eol}${eol}`;
  return `${out}data: [DONE]${eol}${eol}`;
}

function responsesStream(): string {
  const ev = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const response = { id: 'resp_1', object: 'response', status: 'in_progress', usage: null };
  return (
    ev('response.created', { sequence_number: 0, response }) +
    ev('response.in_progress', { sequence_number: 1, response }) +
    ev('response.output_item.added', { sequence_number: 2, output_index: 0, item: { type: 'message', content: [] } }) +
    ev('response.output_text.delta', { sequence_number: 3, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hi' }) +
    ev('response.output_text.done', { sequence_number: 4, text: 'Hi' }) +
    ev('response.completed', {
      sequence_number: 5,
      response: { ...response, status: 'completed', usage: { input_tokens: 36, input_tokens_details: { cached_tokens: 12 }, output_tokens: 87, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 123 } },
    })
  );
}

interface Run {
  readonly tap: SseUsageTap;
  readonly out: Buffer[];
}

async function run(chunks: readonly Buffer[], strip = false): Promise<Run> {
  const tap = new SseUsageTap({ stripInjectedUsage: strip });
  const out: Buffer[] = [];
  tap.on('data', (c: Buffer) => out.push(c));
  for (const c of chunks) tap.write(c);
  tap.end();
  await finished(tap);
  return { tap, out };
}

/** The stream cut in two at `at` (and, when given, again at `at2`). */
function split(bytes: Buffer, at: number, at2?: number): Buffer[] {
  if (at2 === undefined) return [bytes.subarray(0, at), bytes.subarray(at)].filter((b) => b.length > 0);
  return [bytes.subarray(0, at), bytes.subarray(at, at2), bytes.subarray(at2)].filter((b) => b.length > 0);
}

for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n']] as const) {
  test(`passes a ${name} chat stream byte for byte at every split point and reads the same usage`, async () => {
    const bytes = Buffer.from(chatStream(true, eol));
    for (let at = 0; at <= bytes.length; at++) {
      const { tap, out } = await run(split(bytes, at));
      assert.ok(Buffer.concat(out).equals(bytes), `split at ${at}`);
      assert.deepEqual(tap.usage, FIGURES, `split at ${at}`);
      assert.equal(tap.sawDone, true);
      assert.equal(typeof tap.firstTokenAt, 'number');
    }
  });

  test(`strips the injected usage from a ${name} chat stream at every split point, leaving what the backend sends without it`, async () => {
    const withUsage = Buffer.from(chatStream(true, eol));
    const without = Buffer.from(chatStream(false, eol));
    for (let at = 0; at <= withUsage.length; at++) {
      const { tap, out } = await run(split(withUsage, at), true);
      assert.equal(Buffer.concat(out).toString(), without.toString(), `split at ${at}`);
      assert.deepEqual(tap.usage, FIGURES, `split at ${at}`);
      assert.equal(tap.sawDone, true);
    }
  });
}

test('gives the same output when cut in three anywhere (sampled)', async () => {
  const withUsage = Buffer.from(chatStream(true));
  const without = Buffer.from(chatStream(false));
  for (let at = 0; at < withUsage.length; at += 19) {
    for (let at2 = at + 1; at2 < withUsage.length; at2 += 23) {
      const plain = await run(split(withUsage, at, at2));
      assert.ok(Buffer.concat(plain.out).equals(withUsage), `split at ${at}, ${at2}`);
      const stripped = await run(split(withUsage, at, at2), true);
      assert.ok(Buffer.concat(stripped.out).equals(without), `strip, split at ${at}, ${at2}`);
      assert.deepEqual(stripped.tap.usage, FIGURES);
    }
  }
});

test('gives the same output when fed one byte at a time', async () => {
  const withUsage = Buffer.from(chatStream(true));
  const bytes = [...withUsage].map((b) => Buffer.from([b]));
  const stripped = await run(bytes, true);
  assert.ok(Buffer.concat(stripped.out).equals(Buffer.from(chatStream(false))));
  assert.deepEqual(stripped.tap.usage, FIGURES);
  const plain = await run(bytes);
  assert.ok(Buffer.concat(plain.out).equals(withUsage));
  assert.deepEqual(plain.tap.usage, FIGURES);
});

test('pushes the very same Buffer objects on when not stripping', async () => {
  const bytes = Buffer.from(chatStream(true));
  const chunks = split(bytes, 100, 700);
  const { out } = await run(chunks);
  assert.equal(out.length, chunks.length);
  out.forEach((c, i) => assert.equal(c, chunks[i]));
});

test('pushes the very same Buffer objects when stripping finds nothing to strip in event-aligned chunks', async () => {
  const bytes = Buffer.from(chatStream(false));
  const events = bytes.toString().split(/(?<=\n\n)/).map((e) => Buffer.from(e));
  const { out, tap } = await run(events, true);
  assert.equal(out.length, events.length);
  out.forEach((c, i) => assert.equal(c, events[i]));
  assert.equal(tap.usage, undefined, 'the backend ignored include_usage: no usage');
  assert.equal(tap.sawDone, true);
});

test('keeps the usage chunk when the client asked for it (no stripping)', async () => {
  const bytes = Buffer.from(chatStream(true));
  const { out, tap } = await run([bytes]);
  assert.ok(Buffer.concat(out).equals(bytes));
  assert.deepEqual(tap.usage, FIGURES);
});

test('sets firstTokenAt at the first chunk with content, not at the role-only chunk', async () => {
  const events = chatStream(false).split(/(?<=\n\n)/).map((e) => Buffer.from(e));
  const tap = new SseUsageTap();
  tap.resume();
  tap.write(events[0]);
  assert.equal(tap.firstTokenAt, undefined, 'role chunk');
  const before = performance.now();
  tap.write(events[1]);
  const at = tap.firstTokenAt;
  assert.ok(at !== undefined && at >= before && at <= performance.now());
  tap.write(events[2]);
  assert.equal(tap.firstTokenAt, at, 'later chunks do not move it');
  tap.end();
  await finished(tap);
});

test('reads usage and the end from a Responses API stream at every split point', async () => {
  const bytes = Buffer.from(responsesStream());
  for (let at = 0; at <= bytes.length; at++) {
    const { tap, out } = await run(split(bytes, at));
    assert.ok(Buffer.concat(out).equals(bytes));
    assert.deepEqual(tap.usage, { prompt_tokens: 36, completion_tokens: 87, cached_tokens: 12, reasoning_tokens: 64, total_tokens: 123 });
    assert.equal(tap.sawDone, true);
    assert.equal(typeof tap.firstTokenAt, 'number');
  }
});

test('an aborted stream keeps what it read and did not see the end', async () => {
  const bytes = Buffer.from(chatStream(true));
  const cut = bytes.indexOf('"choices":[]');
  const { tap, out } = await run([bytes.subarray(0, cut)]);
  assert.ok(Buffer.concat(out).equals(bytes.subarray(0, cut)));
  assert.equal(tap.usage, undefined);
  assert.equal(tap.sawDone, false);
  assert.equal(typeof tap.firstTokenAt, 'number');
});

test('strip mode passes an incomplete last event out at the end', async () => {
  const { out } = await run([Buffer.from('data: {"a":1,"usage":null}\n\ndata: {"b":2')], true);
  assert.equal(Buffer.concat(out).toString(), 'data: {"a":1}\n\ndata: {"b":2');
});

test('strip mode drops an injected usage chunk that the stream ends on without a blank line', async () => {
  const { out, tap } = await run([Buffer.from('data: {"choices":[{"delta":{"content":"x"}}],"usage":null}\n\ndata: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}\n')], true);
  assert.equal(Buffer.concat(out).toString(), 'data: {"choices":[{"delta":{"content":"x"}}]}\n\n');
  assert.equal(tap.usage?.total_tokens, 3);
});

test('keeps comments, ids and event names while stripping', async () => {
  const input = ': keep-alive\n\nid: 7\nevent: message\ndata: {"x":1,"usage":null}\n\n';
  const { out } = await run([Buffer.from(input)], true);
  assert.equal(Buffer.concat(out).toString(), ': keep-alive\n\nid: 7\nevent: message\ndata: {"x":1}\n\n');
});

test('keeps a usage chunk that still has choices (some backends put usage on the last content chunk)', async () => {
  const input = 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":5,"total_tokens":9}}\n\ndata: [DONE]\n\n';
  const { out, tap } = await run([Buffer.from(input)], true);
  assert.equal(Buffer.concat(out).toString(), input);
  assert.equal(tap.usage?.total_tokens, 9);
});

test('joins multi-line data before reading it', async () => {
  const input = 'data: {"choices":[],\ndata: "usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n';
  const { out, tap } = await run([Buffer.from(input)], true);
  assert.equal(Buffer.concat(out).toString(), input, 'multi-line events are not edited');
  assert.equal(tap.usage?.total_tokens, 2);
});

test('does not throw on garbage and passes it unchanged', async () => {
  const input = Buffer.from('data: {not json "usage": {\n\ndata: \u0000\u00ff\n\n\n\nevent\ndata:[DONE]\n\n', 'latin1');
  for (const strip of [false, true]) {
    const { out, tap } = await run(split(input, 9), strip);
    assert.ok(Buffer.concat(out).equals(input));
    assert.equal(tap.usage, undefined);
    assert.equal(tap.sawDone, true);
  }
});

const NULL_USAGE: readonly [string, string, string][] = [
  ['the last member', '{"a":1,"b":[2],"usage":null}', '{"a":1,"b":[2]}'],
  ['a middle member', '{"a":1,"usage":null,"b":2}', '{"a":1,"b":2}'],
  ['the first member', '{"usage":null,"a":1}', '{"a":1}'],
  ['the only member', '{"usage":null}', '{}'],
  ['with spaces', '{"a": 1, "usage": null}', '{"a": 1}'],
  ['a nested usage is kept', '{"a":{"usage":null}}', '{"a":{"usage":null}}'],
  ['a usage object is kept', '{"a":1,"usage":{"prompt_tokens":1}}', '{"a":1,"usage":{"prompt_tokens":1}}'],
  ['invalid JSON is kept', '{"a":1,"usage":null', '{"a":1,"usage":null'],
  ['an array is kept', '[{"usage":null}]', '[{"usage":null}]'],
];

for (const [name, input, expected] of NULL_USAGE) {
  test(`removeNullUsage: ${name}`, () => {
    const buf = Buffer.from(input);
    const out = removeNullUsage(buf);
    assert.equal(out.toString(), expected);
    if (input === expected) assert.equal(out, buf, 'the same buffer when nothing changes');
  });
}

const KINDS: readonly [string, string, 'none' | 'null' | 'object'][] = [
  ['no usage', '{"a":1}', 'none'],
  ['usage null', '{"a":1,"usage":null}', 'null'],
  ['usage object', '{"usage" : {"x":1}}', 'object'],
  ['usage as a string value', '{"content":"usage"}', 'none'],
  ['an escaped usage inside a string', '{"content":"say \\"usage\\": {"}', 'none'],
  ['a nested usage object after a null', '{"usage":null,"response":{"usage":{}}}', 'object'],
];

for (const [name, input, expected] of KINDS) {
  test(`usageKind: ${name}`, () => {
    assert.equal(usageKind(Buffer.from(input)), expected);
  });
}

const OUTPUT: readonly [string, unknown, boolean][] = [
  ['a role-only chunk', { choices: [{ delta: { role: 'assistant', content: '', refusal: null } }] }, false],
  ['an empty delta', { choices: [{ delta: {}, finish_reason: 'stop' }] }, false],
  ['content', { choices: [{ delta: { content: 'x' } }] }, true],
  ['a tool call', { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '' } }] } }] }, true],
  ['reasoning content', { choices: [{ delta: { reasoning_content: 'hmm' } }] }, true],
  ['completions text', { choices: [{ text: 'x', index: 0 }] }, true],
  ['empty completions text', { choices: [{ text: '', index: 0 }] }, false],
  ['a Responses delta', { type: 'response.output_text.delta', delta: 'x' }, true],
  ['a Responses lifecycle event', { type: 'response.created', response: {} }, false],
  ['the usage chunk', { choices: [], usage: { prompt_tokens: 1 } }, false],
  ['not an object', 'x', false],
];

for (const [name, event, expected] of OUTPUT) {
  test(`isOutputEvent: ${name}`, () => {
    assert.equal(isOutputEvent(event), expected);
  });
}
