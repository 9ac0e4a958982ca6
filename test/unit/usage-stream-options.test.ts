import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestStreamUsage } from '../../src/usage/stream-options.js';

const INJECTED: readonly [string, string, string][] = [
  ['adds stream_options when absent', '{"model":"gpt-4o","stream":true}', '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}'],
  [
    'keeps spacing, key order and unknown fields around the addition',
    '{\n  "stream" : true ,\n  "messages": [{"role":"user","content":"h\\u00e9"}],\n  "x_new": 1.50e3\n}\n',
    '{\n  "stream" : true ,\n  "messages": [{"role":"user","content":"h\\u00e9"}],\n  "x_new": 1.50e3,"stream_options":{"include_usage":true}\n}\n',
  ],
  ['adds include_usage inside an existing object', '{"stream":true,"stream_options":{"x":1}}', '{"stream":true,"stream_options":{"x":1,"include_usage":true}}'],
  ['fills an empty stream_options object', '{"stream":true,"stream_options":{ }}', '{"stream":true,"stream_options":{"include_usage":true }}'],
  ['turns include_usage false into true', '{"stream":true,"stream_options":{"include_usage":false,"y":2}}', '{"stream":true,"stream_options":{"include_usage":true,"y":2}}'],
  ['turns include_usage null into true', '{"stream_options":{"include_usage": null},"stream":true}', '{"stream_options":{"include_usage": true},"stream":true}'],
  ['replaces a null stream_options', '{"stream":true,"stream_options":null,"n":2}', '{"stream":true,"stream_options":{"include_usage":true},"n":2}'],
  [
    'edits the last of duplicate stream_options (the one backends read)',
    '{"stream_options":{"include_usage":true},"stream":true,"stream_options":{}}',
    '{"stream_options":{"include_usage":true},"stream":true,"stream_options":{"include_usage":true}}',
  ],
  ['keeps raw UTF-8 bytes', '{"messages":[{"content":"café 😀"}],"stream":true}', '{"messages":[{"content":"café 😀"}],"stream":true,"stream_options":{"include_usage":true}}'],
];

for (const [name, input, expected] of INJECTED) {
  test(`requestStreamUsage ${name}`, () => {
    const result = requestStreamUsage(Buffer.from(input));
    assert.equal(result.injected, true);
    assert.equal(result.body.toString(), expected);
    assert.deepEqual(JSON.parse(result.body.toString()).stream_options.include_usage, true);
  });
}

const UNCHANGED: readonly [string, string][] = [
  ['stream false', '{"model":"m","stream":false}'],
  ['no stream', '{"model":"m"}'],
  ['stream as a string', '{"stream":"true"}'],
  ['stream true overridden by a later false', '{"stream":true,"stream":false}'],
  ['include_usage already true', '{"stream":true,"stream_options":{"include_usage":true}}'],
  ['include_usage already true, spaced', '{"stream":true,"stream_options":{ "include_usage" : true }}'],
  ['stream_options of the wrong type (the backend reports it)', '{"stream":true,"stream_options":"yes"}'],
  ['invalid JSON', '{"stream":true,'],
  ['trailing garbage', '{"stream":true} x'],
  ['an array', '[{"stream":true}]'],
  ['a string', '"stream"'],
  ['an empty body', ''],
  ['a nested stream only', '{"a":{"stream":true}}'],
];

for (const [name, input] of UNCHANGED) {
  test(`requestStreamUsage leaves the same buffer for ${name}`, () => {
    const body = Buffer.from(input);
    const result = requestStreamUsage(body);
    assert.equal(result.injected, false);
    assert.equal(result.body, body);
  });
}
