import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { createRelay, type Relay } from '../../src/relay.js';

export interface RunningRelay {
  readonly url: string;
  /** url + '/v1', for the openai SDK's baseURL. */
  readonly baseURL: string;
  readonly port: number;
  readonly relay: Relay;
  /** Every log line the relay wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the next access-log line ("request"). */
  nextAccessLog(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts a relay in-process on 127.0.0.1:0 from a config object (written as YAML's JSON subset). */
export async function startRelay(config: Record<string, unknown>): Promise<RunningRelay> {
  const server = { host: '127.0.0.1', port: 0, ...(config.server as Record<string, unknown> | undefined) };
  const log = { level: 'debug', ...(config.log as Record<string, unknown> | undefined) };
  const parsed = parseConfig(JSON.stringify({ ...config, server, log }), 'test-config.yaml', {});
  const logs: Record<string, unknown>[] = [];
  const waiters: ((line: Record<string, unknown>) => void)[] = [];
  let delivered = 0;
  const access: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const text of chunk.toString().split('\n')) {
        if (text === '') continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        logs.push(line);
        if (line.msg === 'request') {
          access.push(line);
          const w = waiters.shift();
          if (w) {
            delivered++;
            w(line);
          }
        }
      }
      cb();
    },
  });
  const { log: logger } = await createLogger({ level: parsed.log.level, format: 'json' }, sink);
  const relay = createRelay(parsed, logger);
  relay.server.listen(0, '127.0.0.1');
  await once(relay.server, 'listening');
  const port = (relay.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    port,
    relay,
    logs,
    nextAccessLog() {
      if (delivered < access.length) return Promise.resolve(access[delivered++] as Record<string, unknown>);
      return new Promise((resolve) => waiters.push(resolve));
    },
    close: () => relay.shutdown(0),
  };
}
