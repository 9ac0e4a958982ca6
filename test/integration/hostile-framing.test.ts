import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { replyJson, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { openSocket, rawRequest, readResponse, requestsBesidesSentinel, toOpenAIError } from '../helpers/raw-http.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

/**
 * Request smuggling: a body whose length two parsers could read differently is refused with an
 * OpenAI-shaped 400 and never passed on. Checked both with a pass-through relay (bodies stream
 * straight upstream) and with one that rewrites models (bodies are read first).
 */

let upstream: MockUpstream;
let passThrough: RunningRelay;
let rewriting: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(replyJson(200, { ok: true }));
  passThrough = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' } });
  rewriting = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend-secret' }, model: { mapping: { 'gpt-4': 'gpt-4-turbo' } } });
});
after(async () => {
  await passThrough.close();
  await rewriting.close();
  await upstream.close();
});

const BODY = '{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}';
const SMUGGLED = 'GET /v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

function head(port: number, lines: readonly string[]): string {
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
}

const chunked = (body: string): string => `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;

const ATTACKS: readonly { name: string; build: (port: number) => string }[] = [
  {
    name: 'Content-Length together with Transfer-Encoding: chunked',
    build: (port) => head(port, [`Content-Length: ${BODY.length}`, 'Transfer-Encoding: chunked']) + chunked(BODY) + SMUGGLED,
  },
  {
    name: 'Transfer-Encoding: chunked together with Content-Length (reversed order)',
    build: (port) => head(port, ['Transfer-Encoding: chunked', 'Content-Length: 4']) + chunked(BODY),
  },
  {
    name: 'two differing Content-Length headers',
    build: (port) => head(port, [`Content-Length: ${BODY.length}`, 'Content-Length: 5']) + BODY + SMUGGLED,
  },
  {
    name: 'one Content-Length header listing two differing values',
    build: (port) => head(port, [`Content-Length: ${BODY.length}, 5`]) + BODY,
  },
  {
    name: 'Transfer-Encoding: chunked, identity',
    build: (port) => head(port, ['Transfer-Encoding: chunked, identity']) + chunked(BODY),
  },
  {
    name: 'Transfer-Encoding: identity (chunked not last)',
    build: (port) => head(port, ['Transfer-Encoding: identity', `Content-Length: ${BODY.length}`]) + BODY,
  },
  {
    name: 'an invalid chunk size',
    build: (port) => head(port, ['Transfer-Encoding: chunked']) + `zz\r\n${BODY}\r\n0\r\n\r\n`,
  },
  {
    name: 'a negative Content-Length',
    build: (port) => head(port, ['Content-Length: -1']) + BODY,
  },
  {
    name: 'a whitespace before the colon of Content-Length',
    build: (port) => head(port, [`Content-Length : ${BODY.length}`]) + BODY,
  },
];

for (const relayName of ['pass-through', 'model-rewriting'] as const) {
  for (const attack of ATTACKS) {
    test(`${relayName} relay: refuses ${attack.name} with an OpenAI-shaped 400 and forwards nothing`, { timeout: 10_000 }, async () => {
      const relay = relayName === 'pass-through' ? passThrough : rewriting;
      const before = upstream.requests.length;
      const res = await rawRequest(relay.port, attack.build(relay.port));
      assert.equal(res.status, 400, res.raw);
      assert.match(res.headers['content-type']?.[0] ?? '', /^application\/json/);
      assert.equal(toOpenAIError(res.body).type, 'invalid_request_error');
      assert.equal(res.raw.match(/HTTP\/1\.1 /g)?.length, 1, 'exactly one response (nothing smuggled)');
      const forwarded = await requestsBesidesSentinel(relay, upstream, { since: before });
      assert.deepEqual(
        forwarded.map((r) => `${r.method} ${r.url}`),
        [],
        'the mock must receive nothing',
      );
    });
  }
}

test('an invalid chunk size arriving after the body began streaming aborts the upstream request: the backend never gets a complete request', { timeout: 10_000 }, async () => {
  // A backend that tells when headers arrive (the shared mock records requests only once they end).
  let onHeaders: () => void = () => undefined;
  const headersArrived = new Promise<void>((resolve) => (onHeaders = resolve));
  let onOutcome: (o: { complete: boolean; body: string }) => void = () => undefined;
  const outcome = new Promise<{ complete: boolean; body: string }>((resolve) => (onOutcome = resolve));
  const backend = createServer((req, res) => {
    onHeaders();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      onOutcome({ complete: true, body });
      res.end('{}');
    });
    req.on('close', () => onOutcome({ complete: false, body }));
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const relay = await startRelay({ backend: { base_url: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`, api_key: 'sk-backend-secret' } });
  try {
    const socket = await openSocket(relay.port);
    const answer = readResponse(socket);
    socket.write(head(relay.port, ['Transfer-Encoding: chunked']) + '5\r\nhello\r\n');
    await headersArrived;
    socket.write('zz\r\n');
    const res = await answer;
    assert.equal(res.status, 400, res.raw);
    assert.equal(toOpenAIError(res.body).type, 'invalid_request_error');
    const seen = await outcome;
    assert.equal(seen.complete, false, 'the upstream request must be aborted, not completed');
  } finally {
    await relay.close();
    backend.closeAllConnections();
    backend.close();
  }
});
