import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelayError } from '../../src/errors.js';
import { createRequestHeaderPolicy } from '../../src/proxy/headers.js';
import { createModelResolver } from '../../src/proxy/model-policy.js';
import {
  checkClientHandshake,
  isWebSocketUpgrade,
  parseSubprotocols,
  rewriteQueryModel,
  toHandshakeHeaders,
  toSubprotocolKeys,
  toUpstreamProtocols,
  toUpstreamUrl,
} from '../../src/websocket/handshake.js';

const mapping = createModelResolver({ override: '', mapping: { alias: 'gpt-realtime', 'a b': 'c/d' } });
const forcing = createModelResolver({ override: 'forced', mapping: {} });

test('rewriteQueryModel maps the model parameter and keeps every other byte of the query', () => {
  const cases: [string, ReturnType<typeof createModelResolver>, string, string | undefined, string | undefined][] = [
    ['', mapping, '', undefined, undefined],
    ['?', mapping, '?', undefined, undefined],
    ['?model=alias', mapping, '?model=gpt-realtime', 'alias', 'gpt-realtime'],
    ['?x=%2F&model=alias&y', mapping, '?x=%2F&model=gpt-realtime&y', 'alias', 'gpt-realtime'],
    ['?model=unknown&x=1', mapping, '?model=unknown&x=1', 'unknown', 'unknown'],
    ['?model=a+b', mapping, '?model=c%2Fd', 'a b', 'c/d'],
    ['?model=a%20b', mapping, '?model=c%2Fd', 'a b', 'c/d'],
    ['?call_id=rtc_1', forcing, '?call_id=rtc_1', undefined, undefined],
    ['?model=anything', forcing, '?model=forced', 'anything', 'forced'],
    ['?mod%65l=alias', mapping, '?mod%65l=gpt-realtime', 'alias', 'gpt-realtime'],
    ['?modelx=alias&xmodel=alias', mapping, '?modelx=alias&xmodel=alias', undefined, undefined],
    ['?model=%E0%A4%A', mapping, '?model=%E0%A4%A', '%E0%A4%A', '%E0%A4%A'],
  ];
  for (const [query, resolve, expected, asked, sent] of cases) {
    assert.deepEqual(rewriteQueryModel(query, resolve), { query: expected, asked, sent }, query);
  }
});

test('rewriteQueryModel leaves exactly one model parameter, the last one, resolved', () => {
  assert.deepEqual(rewriteQueryModel('?model=x&a=1&model=alias', mapping), { query: '?a=1&model=gpt-realtime', asked: 'alias', sent: 'gpt-realtime' });
  assert.deepEqual(rewriteQueryModel('?model=alias&model=other', forcing), { query: '?model=forced', asked: 'other', sent: 'forced' });
});

test('parseSubprotocols reads the offered list and refuses malformed or duplicated entries', () => {
  assert.deepEqual(parseSubprotocols(undefined), []);
  assert.deepEqual(parseSubprotocols(''), []);
  assert.deepEqual(parseSubprotocols('realtime, openai-insecure-api-key.sk-1,openai-beta.realtime-v1'), ['realtime', 'openai-insecure-api-key.sk-1', 'openai-beta.realtime-v1']);
  for (const bad of ['realtime, realtime', 'a b', 'realtime,', 'x;y', 'ok, "quoted"']) {
    assert.throws(() => parseSubprotocols(bad), (err: unknown) => err instanceof RelayError && err.status === 400, bad);
  }
});

test('toUpstreamProtocols drops every key entry when the relay injects its key, only the relay key entry otherwise', () => {
  const offered = ['realtime', 'openai-insecure-api-key.sk-user', 'openai-insecure-api-key.relay-1', 'openai-beta.realtime-v1'];
  assert.deepEqual(toUpstreamProtocols(offered, { dropKeys: true, accessProtocol: undefined }), ['realtime', 'openai-beta.realtime-v1']);
  assert.deepEqual(toUpstreamProtocols(offered, { dropKeys: false, accessProtocol: 'openai-insecure-api-key.relay-1' }), [
    'realtime',
    'openai-insecure-api-key.sk-user',
    'openai-beta.realtime-v1',
  ]);
  assert.deepEqual(toUpstreamProtocols(offered, { dropKeys: false, accessProtocol: undefined }), offered);
  assert.deepEqual(toSubprotocolKeys(offered), ['sk-user', 'relay-1']);
  assert.deepEqual(toSubprotocolKeys(['openai-insecure-api-key.']), []);
});

test('toUpstreamUrl takes ws or wss from base_url and appends the confined path', () => {
  assert.equal(toUpstreamUrl('https://api.openai.com', '/v1', { apiPath: '/realtime', query: '?model=m' }), 'wss://api.openai.com/v1/realtime?model=m');
  assert.equal(toUpstreamUrl('http://127.0.0.1:9000', '/openai/v1', { apiPath: '/realtime', query: '' }), 'ws://127.0.0.1:9000/openai/v1/realtime');
  assert.equal(toUpstreamUrl('https://[::1]:8443', '/v1', { apiPath: '/', query: '?a' }), 'wss://[::1]:8443/v1?a');
});

test('isWebSocketUpgrade accepts only GET with Upgrade: websocket', () => {
  assert.equal(isWebSocketUpgrade('GET', { upgrade: 'websocket' }), true);
  assert.equal(isWebSocketUpgrade('GET', { upgrade: 'WebSocket' }), true);
  assert.equal(isWebSocketUpgrade('POST', { upgrade: 'websocket' }), false);
  assert.equal(isWebSocketUpgrade('GET', { upgrade: 'h2c' }), false);
  assert.equal(isWebSocketUpgrade('GET', {}), false);
});

test('checkClientHandshake requires a well-formed key and version 13', () => {
  assert.doesNotThrow(() => checkClientHandshake({ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' }));
  for (const headers of [
    { 'sec-websocket-version': '13' },
    { 'sec-websocket-key': 'short', 'sec-websocket-version': '13' },
    { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '12' },
    { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
  ]) {
    assert.throws(() => checkClientHandshake(headers), (err: unknown) => err instanceof RelayError && err.code === 'bad_request');
  }
});

test('toHandshakeHeaders applies the HTTP key policy and leaves the handshake fields to ws', () => {
  const raw = [
    'Host', 'relay:8080',
    'Connection', 'Upgrade',
    'Upgrade', 'websocket',
    'Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version', '13',
    'Sec-WebSocket-Protocol', 'realtime, openai-insecure-api-key.sk-user',
    'Sec-WebSocket-Extensions', 'permessage-deflate',
    'Authorization', 'Bearer sk-user',
    'X-Api-Key', 'relay-key',
    'OpenAI-Beta', 'realtime=v1',
    'Cookie', 'a=1',
    'Cookie', 'b=2',
    'X-Forwarded-For', '10.0.0.1',
  ];
  const hiding = createRequestHeaderPolicy({ apiKey: 'sk-backend', forwardClientIp: false });
  assert.deepEqual(
    { ...toHandshakeHeaders(raw, hiding, { accessHeader: undefined, add: ['x-request-id', 'id-1'], client: { remoteAddress: '127.0.0.1' } }) },
    { 'openai-beta': 'realtime=v1', cookie: 'a=1; b=2', authorization: 'Bearer sk-backend', 'x-request-id': 'id-1' },
  );
  const passing = createRequestHeaderPolicy({ apiKey: '', forwardClientIp: false });
  assert.deepEqual(
    { ...toHandshakeHeaders(raw, passing, { accessHeader: 'x-api-key', add: [], client: undefined }) },
    { authorization: 'Bearer sk-user', 'openai-beta': 'realtime=v1', cookie: 'a=1; b=2' },
  );
});
