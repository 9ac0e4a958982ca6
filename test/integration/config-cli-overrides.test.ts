import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { spawnRelay, writeConfig, type SpawnedRelay } from '../helpers/spawn-relay.js';

let occupied: ReturnType<typeof createServer>;
let occupiedPort: number;
let relay: SpawnedRelay | undefined;

before(async () => {
  // The config names a port that is taken and an address this machine does not have: only the
  // command-line overrides let the relay start.
  occupied = createServer();
  occupied.listen(0, '127.0.0.1');
  await once(occupied, 'listening');
  occupiedPort = (occupied.address() as AddressInfo).port;
});
after(async () => {
  if (relay) {
    relay.proc.kill('SIGTERM');
    await relay.exited;
  }
  occupied.close();
});

test('-p 0 and --host 127.0.0.1 override server.port and server.host from the config', { timeout: 30_000 }, async () => {
  const file = writeConfig(`server:\n  port: ${occupiedPort}\n  host: "203.0.113.7"\nbackend:\n  base_url: "http://127.0.0.1:9"\n`);
  relay = await spawnRelay(['-c', file, '-p', '0', '--host', '127.0.0.1']);
  assert.notEqual(relay.port, occupiedPort);
  assert.notEqual(relay.port, 0);
  assert.match(relay.stdout(), /relay listening on http:\/\/127\.0\.0\.1:\d+/);
  const res = await fetch(`${relay.url}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});
