import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { loadCollector } from '../../src/memory/young-gc.js';
import { createUpstream } from '../../src/upstream/client.js';
import type { UpstreamCall } from '../../src/upstream/call.js';
import { OneShotBody, RELEASE_ABOVE, toDispatchBody } from '../../src/upstream/one-shot-body.js';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { createPrng } from '../helpers/seeded-bytes.js';

/** A full collection: V8's gc() without options (the relay only ever asks it for a minor one). */
function collectAll(): void {
  const gc = loadCollector() as unknown as (() => void) | null;
  assert.ok(gc !== null, 'V8 exposes gc()');
  gc();
}

/** Sends `size` bytes and returns only a WeakRef to them: nothing in the test keeps the body. */
function sendBody(upstream: ReturnType<typeof createUpstream>, size: number): { ref: WeakRef<Buffer>; sha256: string; call: UpstreamCall } {
  const body = Buffer.allocUnsafe(size);
  createPrng(7)(body);
  const call = upstream.send({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: ['content-type', 'application/json', 'content-length', String(size)],
    body,
  });
  return { ref: new WeakRef(body), sha256: createHash('sha256').update(body).digest('hex'), call };
}

test('a large request body arrives whole with its content-length, and is not kept while the response streams', async () => {
  let finish: () => void = () => undefined;
  const mock = await startMockUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"n":1}\n\n');
    finish = () => res.end('data: [DONE]\n\n');
  });
  const upstream = createUpstream({ name: 't', base_url: mock.url, timeout: 30, connect_timeout: 5 });
  try {
    const size = 4 * RELEASE_ABOVE + 123;
    const { ref, sha256, call } = sendBody(upstream, size);
    await call.head;
    const chunks: Buffer[] = [];
    let firstChunk: () => void = () => undefined;
    const gotFirst = new Promise<void>((resolve) => (firstChunk = resolve));
    const ended = new Promise<void>((resolve, reject) => {
      call.attach({
        write: (chunk) => {
          chunks.push(chunk);
          firstChunk();
          return true;
        },
        end: resolve,
        error: reject,
      });
    });
    await gotFirst;

    const arrived = await mock.nextRequest();
    assert.equal(arrived.bodyLength, size);
    assert.equal(arrived.bodySha256, sha256);
    assert.equal(arrived.headers['content-length'], String(size));
    assert.equal(arrived.headers['transfer-encoding'], undefined);

    // The stream is still open: the body is on the wire and nothing should hold it any more.
    collectAll();
    await new Promise((resolve) => setImmediate(resolve));
    collectAll();
    assert.equal(ref.deref(), undefined, 'the request body was kept while the response streamed');

    finish();
    await ended;
    assert.equal(Buffer.concat(chunks).toString(), 'data: {"n":1}\n\ndata: [DONE]\n\n');
  } finally {
    finish();
    await upstream.close();
    await mock.close();
  }
});

test('toDispatchBody: a body up to RELEASE_ABOVE bytes, a stream or none is passed as it is', () => {
  const small = Buffer.alloc(RELEASE_ABOVE);
  assert.equal(toDispatchBody(small), small);
  assert.equal(toDispatchBody(null), null);
  const large = Buffer.alloc(RELEASE_ABOVE + 1);
  assert.ok(toDispatchBody(large) instanceof OneShotBody);
});

test('OneShotBody yields its chunk once, then lets go of it', () => {
  const chunk = Buffer.from('abc');
  const once = new OneShotBody(chunk);
  assert.deepEqual([...once], [chunk]);
  assert.deepEqual([...once], []);
  assert.deepEqual(once.next(), { done: true, value: undefined });
});
