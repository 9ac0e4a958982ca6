import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { createPrng } from '../helpers/seeded-bytes.js';
import { startRelay, type RunningRelay } from '../helpers/start-relay.js';

// The relay frames a streamed body's chunks itself after the first (src/proxy/response.ts,
// ChunkWriter). These pieces cover a one-byte chunk, small SSE-sized ones, one just under and
// one above the size where it stops copying (16 KiB), and one larger than a socket read.
const SIZES = [1, 180, 16 * 1024, 16 * 1024 + 1, 70_000, 5];
const fill = createPrng(7);
const PIECES = SIZES.map((size) => {
  const piece = Buffer.alloc(size);
  fill(piece);
  return piece;
});
const PAYLOAD = Buffer.concat(PIECES);

let upstream: MockUpstream;
let relay: RunningRelay;

before(async () => {
  upstream = await startMockUpstream(async (req, res) => {
    if (req.url.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object":"list","data":[]}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    // Each piece in its own write, flushed before the next: the relay sees them one by one.
    for (const piece of PIECES) {
      if (!res.write(piece)) await once(res, 'drain');
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.end();
  });
  relay = await startRelay({ backend: { base_url: upstream.url, api_key: 'sk-backend' } });
});
after(async () => {
  await relay.close();
  await upstream.close();
});

const STREAM_BODY = '{"model":"gpt-4o","stream":true,"messages":[]}';

function streamRequest(version: '1.0' | '1.1', extra = ''): string {
  return (
    `POST /v1/chat/completions HTTP/${version}\r\nHost: relay\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(STREAM_BODY)}\r\n${extra}\r\n${STREAM_BODY}`
  );
}

/** Everything the relay writes on one connection until it closes it. */
async function readUntilClose(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

async function openRaw(): Promise<Socket> {
  const socket = connect(relay.port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

interface Parsed {
  readonly head: string;
  readonly body: Buffer;
  /** Bytes after this response (the next pipelined one). */
  readonly rest: Buffer;
}

/** One HTTP/1.1 response with a chunked body, parsed strictly: sizes, CRLFs, the `0` chunk. */
function parseChunked(raw: Buffer): Parsed {
  const headEnd = raw.indexOf('\r\n\r\n');
  assert.ok(headEnd > 0, 'a response head');
  const head = raw.subarray(0, headEnd).toString('latin1');
  assert.match(head, /\r\ntransfer-encoding: chunked/i);
  const parts: Buffer[] = [];
  let at = headEnd + 4;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    assert.ok(lineEnd > at, `a chunk-size line at byte ${at}`);
    const sizeText = raw.subarray(at, lineEnd).toString('latin1');
    assert.match(sizeText, /^[0-9a-f]+$/, 'a bare hex chunk size');
    const size = Number.parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      assert.equal(raw.subarray(at, at + 2).toString('latin1'), '\r\n', 'the last chunk ends the body');
      return { head, body: Buffer.concat(parts), rest: raw.subarray(at + 2) };
    }
    parts.push(raw.subarray(at, at + size));
    assert.equal(raw.subarray(at + size, at + size + 2).toString('latin1'), '\r\n', `CRLF after a ${size}-byte chunk`);
    at += size + 2;
  }
}

test('a streamed body of small, 16 KiB-edge and large chunks arrives in valid chunked framing, byte-identical', { timeout: 10_000 }, async () => {
  const socket = await openRaw();
  const answer = readUntilClose(socket);
  socket.write(streamRequest('1.1', 'Connection: close\r\n'));
  const parsed = parseChunked(await answer);
  assert.match(parsed.head, /^HTTP\/1\.1 200/);
  assert.equal(parsed.body.length, PAYLOAD.length);
  assert.ok(parsed.body.equals(PAYLOAD), 'the payload, byte for byte');
  assert.equal(parsed.rest.length, 0, 'nothing after the last chunk');
});

test('an HTTP/1.0 client gets the body unframed, ended by the close', { timeout: 10_000 }, async () => {
  const socket = await openRaw();
  const answer = readUntilClose(socket);
  socket.write(streamRequest('1.0'));
  const raw = await answer;
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd).toString('latin1');
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(head, /transfer-encoding/i);
  assert.ok(raw.subarray(headEnd + 4).equals(PAYLOAD), 'the payload, unframed');
});

test('two pipelined streamed requests on one connection get two complete answers, in order', { timeout: 10_000 }, async () => {
  const socket = await openRaw();
  const answer = readUntilClose(socket);
  // Both sent at once: the second answer waits for the first, and is written once its turn comes.
  socket.write(streamRequest('1.1') + streamRequest('1.1', 'Connection: close\r\n'));
  const first = parseChunked(await answer);
  assert.ok(first.body.equals(PAYLOAD), 'first payload');
  const second = parseChunked(first.rest);
  assert.ok(second.body.equals(PAYLOAD), 'second payload');
  assert.equal(second.rest.length, 0);
  assert.equal(upstream.requests.filter((r) => r.url.endsWith('/chat/completions')).length >= 2, true);
});

test('a kept-alive connection carries a stream, then a stream, then a plain request', { timeout: 10_000 }, async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const send = (path: string, body: string | undefined): Promise<{ body: Buffer; reused: boolean; status: number }> =>
      new Promise((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: relay.port, path, method: body === undefined ? 'GET' : 'POST', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ body: Buffer.concat(chunks), reused: req.reusedSocket, status: res.statusCode ?? 0 }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const one = await send('/v1/chat/completions', STREAM_BODY);
    const two = await send('/v1/chat/completions', STREAM_BODY);
    const three = await send('/v1/models', undefined);
    assert.ok(one.body.equals(PAYLOAD) && two.body.equals(PAYLOAD));
    assert.equal(three.status, 200);
    assert.deepEqual(JSON.parse(three.body.toString('utf8')), { object: 'list', data: [] });
    assert.deepEqual([one.reused, two.reused, three.reused], [false, true, true], 'one connection for all three');
  } finally {
    agent.destroy();
  }
});
