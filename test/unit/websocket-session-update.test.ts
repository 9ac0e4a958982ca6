import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createModelResolver } from '../../src/proxy/model-policy.js';
import { rewriteSessionModel } from '../../src/websocket/session-update.js';

const mapping = createModelResolver({ override: '', mapping: { alias: 'gpt-realtime', same: 'same' } });
const forcing = createModelResolver({ override: 'forced', mapping: {} });

test('rewrites the nested session.model of a session.update and keeps every other byte', () => {
  const cases: [string, string][] = [
    ['{"type":"session.update","session":{"model":"alias"}}', '{"type":"session.update","session":{"model":"gpt-realtime"}}'],
    [
      '{ "session" : { "type":"realtime" , "model" :\t"alias", "x":1.50e1 }, "type" : "session.update", "event_id":"e\\u0031" }',
      '{ "session" : { "type":"realtime" , "model" :\t"gpt-realtime", "x":1.50e1 }, "type" : "session.update", "event_id":"e\\u0031" }',
    ],
    ['{"type":"session\\u002eupdate","session":{"model":"alias"}}', '{"type":"session\\u002eupdate","session":{"model":"gpt-realtime"}}'],
    ['{"type":"session.update","session":{"model":"alias","model":"x"}}', '{"type":"session.update","session":{"model":"x"}}'],
    ['{"type":"session.update","session":{"model":"al\\u0069as"}}', '{"type":"session.update","session":{"model":"gpt-realtime"}}'],
  ];
  for (const [input, expected] of cases) {
    const edit = rewriteSessionModel(Buffer.from(input), mapping);
    assert.equal(edit?.data.toString(), expected, input);
  }
});

test('reports the model asked and sent, and returns the same buffer when nothing changes', () => {
  const edit = rewriteSessionModel(Buffer.from('{"type":"session.update","session":{"model":"alias"}}'), mapping);
  assert.equal(edit?.asked, 'alias');
  assert.equal(edit?.sent, 'gpt-realtime');
  const same = Buffer.from('{"type":"session.update","session":{"model":"same"}}');
  const unchanged = rewriteSessionModel(same, mapping);
  assert.equal(unchanged?.data, same);
  assert.equal(unchanged?.asked, 'same');
});

test('every other frame is left alone (undefined: pass as it came)', () => {
  const untouched = [
    '{"type":"input_audio_buffer.append","audio":"AAAA"}',
    '{"type":"response.create","model":"alias","response":{"instructions":"session.update"}}',
    '{"type":"session.update","session":{"instructions":"no model here"}}',
    '{"type":"session.update","session":"alias"}',
    '{"type":"session.update"}',
    '{"type":["session.update"],"session":{"model":"alias"}}',
    '{"type":"session.update","session":{"model":"alias"}',
    '"session.update"',
    '[{"type":"session.update","session":{"model":"alias"}}]',
    '{"type":"session.updated","session":{"model":"alias"}}',
    '{"type":"x","y":"\\n","session":{"model":"alias"}}',
  ];
  for (const input of untouched) assert.equal(rewriteSessionModel(Buffer.from(input), mapping), undefined, input);
});

test('model.override forces the session model, whatever was asked', () => {
  const edit = rewriteSessionModel(Buffer.from('{"type":"session.update","session":{"model":"gpt-4o-realtime-preview","voice":"alloy"}}'), forcing);
  assert.equal(edit?.data.toString(), '{"type":"session.update","session":{"model":"forced","voice":"alloy"}}');
  // A model that is not a string is replaced too: the backend never sees anything but the forced name.
  const odd = rewriteSessionModel(Buffer.from('{"type":"session.update","session":{"model":{"name":"x"}}}'), forcing);
  assert.equal(odd?.data.toString(), '{"type":"session.update","session":{"model":"forced"}}');
});
