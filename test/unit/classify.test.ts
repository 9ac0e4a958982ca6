import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errors } from 'undici';
import { RelayError, type ErrorCode } from '../../src/errors.js';
import { classifyUpstreamError } from '../../src/upstream/classify.js';

function sysError(code: string, message = code): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function socketError(cause?: Error): errors.SocketError {
  const err = new errors.SocketError('other side closed');
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause });
  return err;
}

function abortError(): Error {
  return Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

const CASES: readonly { name: string; err: unknown; clientGone?: boolean; status: number; code: ErrorCode }[] = [
  { name: 'undici ConnectTimeoutError', err: new errors.ConnectTimeoutError(), status: 504, code: 'upstream_connect_timeout' },
  { name: 'a bare UND_ERR_CONNECT_TIMEOUT code', err: sysError('UND_ERR_CONNECT_TIMEOUT'), status: 504, code: 'upstream_connect_timeout' },
  { name: 'undici HeadersTimeoutError', err: new errors.HeadersTimeoutError(), status: 504, code: 'upstream_timeout' },
  { name: 'undici BodyTimeoutError', err: new errors.BodyTimeoutError(), status: 504, code: 'upstream_timeout' },
  { name: 'ECONNREFUSED', err: sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), status: 502, code: 'upstream_unreachable' },
  { name: 'ENOTFOUND', err: sysError('ENOTFOUND', 'getaddrinfo ENOTFOUND nonexistent.invalid'), status: 502, code: 'upstream_unreachable' },
  { name: 'EAI_AGAIN', err: sysError('EAI_AGAIN'), status: 502, code: 'upstream_unreachable' },
  { name: 'ECONNRESET', err: sysError('ECONNRESET', 'read ECONNRESET'), status: 502, code: 'upstream_connection_error' },
  { name: 'undici SocketError without a cause', err: socketError(), status: 502, code: 'upstream_connection_error' },
  { name: 'undici SocketError caused by ECONNRESET', err: socketError(sysError('ECONNRESET')), status: 502, code: 'upstream_connection_error' },
  { name: 'undici SocketError caused by ECONNREFUSED', err: socketError(sysError('ECONNREFUSED')), status: 502, code: 'upstream_unreachable' },
  {
    name: 'ETIMEDOUT while connecting',
    err: Object.assign(sysError('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:443'), { syscall: 'connect' }),
    status: 504,
    code: 'upstream_connect_timeout',
  },
  {
    name: 'undici SocketError caused by ETIMEDOUT on an open connection',
    err: socketError(Object.assign(sysError('ETIMEDOUT', 'read ETIMEDOUT'), { syscall: 'read' })),
    status: 504,
    code: 'upstream_timeout',
  },
  { name: 'an error without a code', err: new Error('boom'), status: 502, code: 'upstream_connection_error' },
  { name: 'an AbortError', err: abortError(), clientGone: true, status: 499, code: 'client_closed_request' },
  { name: 'an undici SocketError', err: socketError(sysError('ECONNRESET')), clientGone: true, status: 499, code: 'client_closed_request' },
  { name: 'a HeadersTimeoutError', err: new errors.HeadersTimeoutError(), clientGone: true, status: 499, code: 'client_closed_request' },
];

for (const c of CASES) {
  test(`classifies ${c.name}${c.clientGone === true ? ' when the client is gone' : ''} as ${c.status} ${c.code}`, () => {
    const result = classifyUpstreamError(c.err, c.clientGone ?? false);
    assert.ok(result instanceof RelayError);
    assert.equal(result.status, c.status);
    assert.equal(result.code, c.code);
    assert.equal(typeof result.message, 'string');
    assert.ok(result.message.length > 0);
  });
}

test('timeouts are typed timeout_error and unreachable backends api_error', () => {
  assert.equal(classifyUpstreamError(new errors.HeadersTimeoutError(), false).type, 'timeout_error');
  assert.equal(classifyUpstreamError(new errors.ConnectTimeoutError(), false).type, 'timeout_error');
  assert.equal(classifyUpstreamError(sysError('ECONNREFUSED'), false).type, 'api_error');
});

test('returns a RelayError the relay already raised unchanged', () => {
  const tooLarge = new RelayError('request_too_large');
  assert.equal(classifyUpstreamError(tooLarge, false), tooLarge);
});

test('never puts the error message (which may hold a URL or header) into the relay message', () => {
  const err = sysError('ECONNREFUSED', 'connect ECONNREFUSED http://user:sk-secret@10.0.0.1/');
  assert.ok(!classifyUpstreamError(err, false).message.includes('sk-secret'));
});
