import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { test } from 'node:test';
// The index adds request() to every Dispatcher (the relay itself only dispatches).
import 'undici';
import Client from 'undici/lib/dispatcher/client.js';
import { kClients, kNeedDrain } from 'undici/lib/dispatcher/pool-base.js';
import { FreeListPool } from '../../src/upstream/free-list-pool.js';
import { listenOnLoopback } from '../helpers/listen.js';

/** A backend that holds every response until released, and counts TCP connections. */
async function startHoldingServer() {
  const held: ServerResponse[] = [];
  let connections = 0;
  let waiter: { count: number; resolve: () => void } | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    held.push(res);
    if (waiter !== undefined && held.length >= waiter.count) waiter.resolve();
  });
  server.on('connection', () => connections++);
  const listener = await listenOnLoopback(server);
  return {
    origin: `http://127.0.0.1:${listener.port}`,
    connections: () => connections,
    /** Resolves when `count` requests are held. */
    holding: (count: number) => new Promise<void>((resolve) => (held.length >= count ? resolve() : (waiter = { count, resolve }))),
    releaseAll() {
      for (const res of held.splice(0)) res.end('ok');
    },
    close: () => listener.close(),
  };
}

function clientsOf(pool: FreeListPool): unknown[] {
  return (pool as unknown as Record<symbol, unknown[]>)[kClients] ?? [];
}

/** Counts how often the pool asks its clients whether they are busy (Pool keeps it under kNeedDrain). */
function countBusyChecks(): { reads: () => number; restore: () => void } {
  const proto = Client.prototype as unknown as Record<symbol, unknown>;
  const values = new WeakMap<object, unknown>();
  let reads = 0;
  Object.defineProperty(proto, kNeedDrain, {
    configurable: true,
    get(this: object) {
      reads++;
      return values.get(this);
    },
    set(this: object, value: unknown) {
      values.set(this, value);
    },
  });
  return { reads: () => reads, restore: () => delete proto[kNeedDrain] };
}

test('the pool finds a free connection without walking the busy ones, and reuses connections', { timeout: 30_000 }, async () => {
  const backend = await startHoldingServer();
  const checks = countBusyChecks();
  const pool = new FreeListPool(backend.origin, { pipelining: 1, keepAliveTimeout: 10_000 });
  const N = 300;
  const responses = Array.from({ length: N }, () => pool.request({ method: 'GET', path: '/' }));
  // Settled either way: a failed assertion below destroys the pool under them.
  for (const r of responses) r.catch(() => undefined);
  try {
    await backend.holding(N);
    // undici's own Pool reads this flag on every busy client for every request: about N² / 2 times (45,000 here).
    assert.ok(checks.reads() < 4 * N, `${checks.reads()} busy checks for ${N} requests`);
    assert.equal(backend.connections(), N, 'one connection per request in flight');
    assert.ok(clientsOf(pool).length <= N + 1);

    backend.releaseAll();
    for (const r of await Promise.all(responses)) assert.equal(await r.body.text(), 'ok');
    // Sequential requests after the burst reuse the open connections (the first may take the spare
    // client undici made when all were busy, before the others have drained).
    for (let i = 0; i < 20; i++) {
      const next = pool.request({ method: 'GET', path: '/' });
      await backend.holding(1);
      backend.releaseAll();
      assert.equal(await (await next).body.text(), 'ok');
    }
    assert.ok(backend.connections() <= N + 1, `${backend.connections()} connections: the sequential requests reused them`);
  } finally {
    checks.restore();
    await pool.destroy();
    await backend.close();
  }
});

test('a client whose connection failed is not used again, and close() closes every client', { timeout: 30_000 }, async () => {
  // A port that refuses: take one, then close it.
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');

  const pool = new FreeListPool(`http://127.0.0.1:${port}`, { pipelining: 1 });
  // Pool's events name [pool, client].
  const failed: unknown[] = [];
  const connected: unknown[] = [];
  pool.on('connectionError', (_origin, targets) => failed.push(targets[1]));
  pool.on('connect', (_origin, targets) => connected.push(targets[1]));
  await assert.rejects(pool.request({ method: 'GET', path: '/' }), (err: Error & { code?: string }) => err.code === 'ECONNREFUSED');
  assert.equal(failed.length, 1);
  const clients = clientsOf(pool);
  assert.ok(!clients.includes(failed[0]), 'undici dropped the failed client');

  // The backend comes up on that port: the next requests go through clients the pool owns.
  const server = createServer((req, res) => {
    req.resume();
    res.end('up');
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  try {
    for (let i = 0; i < 3; i++) {
      const res = await pool.request({ method: 'GET', path: '/' });
      assert.equal(await res.body.text(), 'up');
    }
    assert.ok(connected.length >= 1);
    for (const client of connected) {
      assert.notEqual(client, failed[0], 'the failed client was handed out again');
      assert.ok(clients.includes(client));
    }
    await pool.close();
    for (const client of clients) assert.equal((client as { closed: boolean }).closed, true);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
