/**
 * A naive Node proxy, the one most people write first: a reference point for the relay (not a
 * target of its own; run it in the relay's place with --relay-cmd, see bench/README.md).
 *
 * A node:http server and an undici Pool, as the relay uses, and nothing else: `/health` answers
 * 200; every other request goes to the config's `backend.base_url` with its method, path, headers
 * and body (streamed), the Authorization header replaced by `backend.api_key` (A checks the key
 * arrived), and the answer is piped back with `pipeline`. No model mapping, no body reading, no
 * logging, no accounting, no error shaping, no timeouts.
 *
 *   node dist/bench/naive-proxy.js -c relay.yaml
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { readReferenceConfig } from './reference-config.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own connection; undici rejects some of them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function forwardHeaders(headers: IncomingHttpHeaders, key: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  out['authorization'] = `Bearer ${key}`;
  return out;
}

function main(): void {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  if (values.config === undefined) throw new Error('usage: naive-proxy -c CONFIG');
  const config = readReferenceConfig(values.config, 'naive-proxy');
  const pool = new Pool(config.upstream, { keepAliveTimeout: 60_000, pipelining: 1 });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/health') {
      res.end('ok');
      return;
    }
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD';
    pool
      .request({ method, path: req.url ?? '/', headers: forwardHeaders(req.headers, config.key), body: hasBody ? req : null })
      .then(
        (up) => {
          const headers: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(up.headers)) {
            if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
          }
          res.writeHead(up.statusCode, headers);
          pipeline(up.body, res, () => undefined);
        },
        () => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        },
      );
  };

  createServer(handle).listen(config.port, '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}

main();
