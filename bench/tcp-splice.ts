/**
 * The least a Node proxy can do per streamed chunk: a TCP splice. Each client connection is piped
 * to a new connection to the mock and back, byte for byte: no HTTP parsing, no headers, no key
 * (`GET /health` is answered here, for the bench's start-up check). Not a target of its own: run it
 * in the relay's place with --relay-cmd to see what Node's sockets alone cost on this machine, e.g.
 * scenario C's CPU per 1,000 chunks (see bench/README.md).
 *
 *   node dist/bench/tcp-splice.js -c relay.yaml
 */
import { connect, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { readReferenceConfig } from './reference-config.js';

const HEALTH = Buffer.from('GET /health');

function splice(client: Socket, host: string, port: number): void {
  client.once('data', (first: Buffer) => {
    if (first.subarray(0, HEALTH.length).equals(HEALTH)) {
      client.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      return;
    }
    const upstream = connect(port, host);
    upstream.write(first);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
}

function main(): void {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  if (values.config === undefined) throw new Error('usage: tcp-splice -c CONFIG');
  const config = readReferenceConfig(values.config, 'tcp-splice');
  const upstream = new URL(config.upstream);
  createServer((client) => splice(client, upstream.hostname, Number(upstream.port || 80))).listen(config.port, '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}

main();
