import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { createRequestHeaderPolicy, isEventStream, toClientHeaders, toUpstreamHeaders, type UpstreamHeaderEdits } from '../../src/proxy/headers.js';

/** Flat [name, value, …] → lower-cased [name, value] pairs. */
function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([(flat[i] as string).toLowerCase(), flat[i + 1] as string]);
  return out;
}

function names(flat: readonly string[]): string[] {
  return pairs(flat).map(([n]) => n);
}

const NO_EDITS: UpstreamHeaderEdits = { contentLength: undefined, add: [] };

const HIDING = createRequestHeaderPolicy({ apiKey: 'sk-backend', forwardClientIp: false });
const PASSING = createRequestHeaderPolicy({ apiKey: '', forwardClientIp: false });
const FORWARDING = createRequestHeaderPolicy({ apiKey: '', forwardClientIp: true });

interface UpstreamCase {
  readonly name: string;
  readonly policy: ReturnType<typeof createRequestHeaderPolicy>;
  readonly raw: readonly string[];
  readonly edits?: UpstreamHeaderEdits;
  readonly expected: [string, string][];
}

const UPSTREAM_CASES: readonly UpstreamCase[] = [
  {
    name: 'hop-by-hop headers are dropped',
    policy: PASSING,
    raw: ['Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Trailer', 'x', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Proxy-Authorization', 'Basic x', 'Proxy-Connection', 'keep-alive', 'X-Keep', '1'],
    expected: [['x-keep', '1']],
  },
  {
    name: 'headers named by Connection are dropped, close and keep-alive tokens are not header names',
    policy: PASSING,
    raw: ['Connection', 'close, X-Foo , x-bar', 'X-Foo', 'a', 'X-Bar', 'b', 'X-Baz', 'c'],
    expected: [['x-baz', 'c']],
  },
  {
    name: 'Host, Expect and the client Content-Length are dropped; the declared length is added',
    policy: PASSING,
    raw: ['Host', 'evil.example', 'Expect', '100-continue', 'Content-Length', '999', 'Content-Type', 'application/json'],
    edits: { contentLength: 42, add: [] },
    expected: [
      ['content-type', 'application/json'],
      ['content-length', '42'],
    ],
  },
  {
    name: 'with a backend key every client credential is replaced by the backend Authorization',
    policy: HIDING,
    raw: ['Authorization', 'Bearer sk-client', 'api-key', 'a', 'X-API-KEY', 'b', 'authorization', 'Basic c', 'OpenAI-Organization', 'org-1'],
    expected: [
      ['openai-organization', 'org-1'],
      ['authorization', 'Bearer sk-backend'],
    ],
  },
  {
    name: 'without a backend key client credentials pass in order and case',
    policy: PASSING,
    raw: ['Authorization', 'Bearer sk-client', 'api-key', 'a', 'x-api-key', 'b'],
    expected: [
      ['authorization', 'Bearer sk-client'],
      ['api-key', 'a'],
      ['x-api-key', 'b'],
    ],
  },
  {
    name: 'the header that carried the relay access key is dropped',
    policy: PASSING,
    raw: ['Authorization', 'Bearer sk-user', 'X-Api-Key', 'rk-relay'],
    edits: { contentLength: undefined, add: [], alsoDrop: ['x-api-key'] },
    expected: [['authorization', 'Bearer sk-user']],
  },
  {
    name: 'client identity headers are dropped unless forwarded',
    policy: PASSING,
    raw: ['X-Forwarded-For', '1.2.3.4', 'X-Real-IP', '1.2.3.4', 'Forwarded', 'for=1.2.3.4', 'CF-Connecting-IP', '1.2.3.4', 'CF-IPCountry', 'NL', 'True-Client-IP', '1.2.3.4', 'X-Forwarded-Proto', 'https', 'Via', '1.1 cdn', 'X-Ok', '1'],
    edits: { contentLength: undefined, add: [], client: { remoteAddress: '127.0.0.1' } },
    expected: [['x-ok', '1']],
  },
  {
    name: 'forwarded client identity: x-forwarded-for values are joined and the client address appended',
    policy: FORWARDING,
    raw: ['X-Forwarded-For', '1.2.3.4', 'X-Real-IP', '1.2.3.4', 'x-forwarded-for', '5.6.7.8', 'CF-Connecting-IP', '1.2.3.4'],
    edits: { contentLength: undefined, add: [], client: { remoteAddress: '127.0.0.1' } },
    expected: [
      ['x-real-ip', '1.2.3.4'],
      ['cf-connecting-ip', '1.2.3.4'],
      ['x-forwarded-for', '1.2.3.4, 5.6.7.8, 127.0.0.1'],
    ],
  },
  {
    name: 'forwarded client identity without x-forwarded-for: the client address alone',
    policy: FORWARDING,
    raw: [],
    edits: { contentLength: undefined, add: [], client: { remoteAddress: '10.0.0.9' } },
    expected: [['x-forwarded-for', '10.0.0.9']],
  },
  {
    name: 'the client x-request-id is replaced by the one the relay adds',
    policy: PASSING,
    raw: ['X-Request-Id', 'bad id', 'X-Custom', 'v'],
    edits: { contentLength: undefined, add: ['x-request-id', 'rid-1'] },
    expected: [
      ['x-custom', 'v'],
      ['x-request-id', 'rid-1'],
    ],
  },
  {
    name: 'end-to-end headers keep their order, case-insensitive names and repeated values',
    policy: PASSING,
    raw: ['OpenAI-Beta', 'assistants=v2', 'X-Multi', 'one', 'x-multi', 'two', 'User-Agent', 'OpenAI/JS 6'],
    expected: [
      ['openai-beta', 'assistants=v2'],
      ['x-multi', 'one'],
      ['x-multi', 'two'],
      ['user-agent', 'OpenAI/JS 6'],
    ],
  },
];

for (const c of UPSTREAM_CASES) {
  test(`toUpstreamHeaders: ${c.name}`, () => {
    assert.deepEqual(pairs(toUpstreamHeaders(c.raw, c.policy, c.edits ?? NO_EDITS)), c.expected);
  });
}

test('toUpstreamHeaders keeps the client spelling of header names', () => {
  const out = toUpstreamHeaders(['OpenAI-Organization', 'org-1', 'X-Custom-Header', 'v'], PASSING, NO_EDITS);
  assert.deepEqual(out, ['OpenAI-Organization', 'org-1', 'X-Custom-Header', 'v']);
});

interface ClientCase {
  readonly name: string;
  readonly upstream: IncomingHttpHeaders;
  readonly options?: { stripCors: boolean; dropLength: boolean };
  readonly add?: readonly string[];
  readonly expected: [string, string][];
}

const CLIENT_CASES: readonly ClientCase[] = [
  {
    name: 'hop-by-hop response headers and the ones Connection names are dropped',
    upstream: {
      connection: 'keep-alive, x-hop',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'proxy-authenticate': 'Basic',
      upgrade: 'h2c',
      trailer: 'x-checksum',
      'x-hop': 'secret',
      'content-type': 'application/json',
    },
    expected: [['content-type', 'application/json']],
  },
  {
    name: 'rate-limit, processing and set-cookie headers pass with every value',
    upstream: {
      'openai-processing-ms': '12',
      'x-ratelimit-remaining-requests': '99',
      'set-cookie': ['a=1', 'b=2'],
    },
    expected: [
      ['openai-processing-ms', '12'],
      ['x-ratelimit-remaining-requests', '99'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ],
  },
  {
    name: 'the backend x-request-id is renamed x-upstream-request-id',
    upstream: { 'x-request-id': 'req_up' },
    add: ['x-request-id', 'relay-id'],
    expected: [
      ['x-upstream-request-id', 'req_up'],
      ['x-request-id', 'relay-id'],
    ],
  },
  {
    name: 'backend access-control-* headers are replaced when the relay does CORS',
    upstream: { 'access-control-allow-origin': 'https://up.example', 'access-control-allow-credentials': 'true', 'content-type': 'text/plain' },
    add: ['access-control-allow-origin', '*'],
    expected: [
      ['content-type', 'text/plain'],
      ['access-control-allow-origin', '*'],
    ],
  },
  {
    name: 'backend access-control-* headers pass when the relay does no CORS',
    upstream: { 'access-control-allow-origin': 'https://up.example' },
    options: { stripCors: false, dropLength: false },
    expected: [['access-control-allow-origin', 'https://up.example']],
  },
  {
    name: 'content-length is dropped when the body is rewritten',
    upstream: { 'content-length': '10', 'content-type': 'application/json' },
    options: { stripCors: true, dropLength: true },
    expected: [['content-type', 'application/json']],
  },
  {
    name: 'content-length passes when the body is not rewritten',
    upstream: { 'content-length': '10' },
    expected: [['content-length', '10']],
  },
];

for (const c of CLIENT_CASES) {
  test(`toClientHeaders: ${c.name}`, () => {
    const options = { ...(c.options ?? { stripCors: true, dropLength: false }), upstreamIdHeader: 'x-upstream-request-id' };
    assert.deepEqual(pairs(toClientHeaders(c.upstream, options, c.add ?? [])), c.expected);
  });
}

test('toClientHeaders never emits a hop-by-hop name, whatever the backend sends', () => {
  const out = toClientHeaders(
    { connection: 'close', 'keep-alive': 'x', te: 'trailers', 'proxy-connection': 'keep-alive', 'x-ok': '1' },
    { stripCors: true, dropLength: false, upstreamIdHeader: 'x-upstream-request-id' },
    [],
  );
  assert.deepEqual(names(out), ['x-ok']);
});

const EVENT_STREAM: readonly [string | undefined, boolean][] = [
  ['text/event-stream', true],
  ['text/event-stream; charset=utf-8', true],
  ['Text/Event-Stream', true],
  ['application/json', false],
  ['text/plain', false],
  [undefined, false],
];

for (const [type, expected] of EVENT_STREAM) {
  test(`isEventStream(${JSON.stringify(type)}) is ${expected}`, () => {
    assert.equal(isEventStream(type), expected);
  });
}

test("the client's address is read only when it is forwarded (its first read is a getpeername() call)", () => {
  let reads = 0;
  const client = {
    get remoteAddress(): string {
      reads++;
      return '10.0.0.9';
    },
  };
  toUpstreamHeaders(['X-Ok', '1'], PASSING, { contentLength: undefined, add: [], client });
  assert.equal(reads, 0);
  assert.deepEqual(pairs(toUpstreamHeaders([], FORWARDING, { contentLength: undefined, add: [], client })), [['x-forwarded-for', '10.0.0.9']]);
  assert.equal(reads, 1);
});
