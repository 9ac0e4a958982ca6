import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseCli, USAGE, type CliOptions } from './cli.js';
import { ConfigError, loadConfig, type RelayConfig } from './config/load.js';
import { toPrintableConfig } from './config/print.js';
import { createLogger, type Logger } from './log.js';
import { createRelay } from './relay.js';
import { fingerprint } from './secret.js';
import { runUsageCommand } from './usage/command.js';

/** The process edge: CLI → config → relay → listen; signals. Everything else is in the modules. */
async function main(argv: readonly string[]): Promise<number> {
  let cli: CliOptions;
  try {
    cli = parseCli(argv);
  } catch (err) {
    process.stderr.write(`relay-bartender: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cli.version) {
    process.stdout.write(`${readVersion()}\n`);
    return 0;
  }

  let config: RelayConfig;
  try {
    config = await loadConfig(cli.config, {
      allowMissing: !cli.configGiven,
      overrides: { port: cli.port, host: cli.host, logLevel: cli.logLevel, logFormat: cli.logFormat },
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`relay-bartender: ${err.message}\n`);
    return 1;
  }
  if (cli.check) {
    process.stdout.write(`${JSON.stringify(toPrintableConfig(config), null, 2)}\nconfig ${cli.config}: OK\n`);
    return 0;
  }

  if (cli.command === 'usage') {
    const { log, flush } = await createLogger({ ...config.log, level: config.log.level === 'info' ? 'warn' : config.log.level });
    try {
      return await runUsageCommand(config, log, cli, (text) => process.stdout.write(text));
    } catch (err) {
      process.stderr.write(`relay-bartender: ${(err as Error).message}\n`);
      return 1;
    } finally {
      flush();
    }
  }

  const { log, flush } = await createLogger(config.log);
  const relay = createRelay(config, log);
  await relay.ready();
  warnAboutOpenRelay(config, log);
  if (!cli.configGiven && !existsSync(cli.config)) log.warn({ config: cli.config }, `no ${cli.config} found: running on the defaults`);

  // Signal handlers go in before the port opens: a SIGTERM that arrives as soon as "listening" is
  // printed must find them, not the default action (terminate at once).
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        flush();
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal, inflight: relay.context.state.inflight, grace_s: config.server.shutdown_grace }, 'shutting down');
      relay.shutdown(config.server.shutdown_grace * 1000).then(
        () => {
          log.info('stopped');
          flush();
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          flush();
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      relay.server.once('error', reject);
      relay.server.listen(config.server.port, config.server.host, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    log.fatal({ code, host: config.server.host, port: config.server.port }, `cannot listen on ${config.server.host}:${config.server.port} (${code ?? 'error'})`);
    flush();
    return 1;
  }
  const address = relay.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
  log.info(
    {
      host: config.server.host,
      port,
      backends: config.backends.map((b) => ({
        name: b.name,
        url: b.base_url,
        keys: b.keys.length === 0 ? 'pass-through' : b.keys.map(fingerprint),
      })),
      version: readVersion(),
    },
    `relay listening on http://${config.server.host}:${port}`,
  );

  return stopped;
}

/** The seed's "hide the key" makes an open relay: anyone who reaches it spends the owner's key. */
function warnAboutOpenRelay(config: RelayConfig, log: Logger): void {
  if (config.backends.every((b) => b.keys.length === 0) || config.auth.keys.length > 0 || isLoopback(config.server.host)) return;
  log.warn(
    { host: config.server.host },
    'a backend key is set, auth.keys is empty and the relay listens beyond loopback: anyone who can reach it spends your key. Set auth.keys or listen on 127.0.0.1.',
  );
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Set by the bundler (scripts/bundle.mjs); read from package.json when running the unbundled build. */
declare const RELAY_BARTENDER_VERSION: string | undefined;

function readVersion(): string {
  if (typeof RELAY_BARTENDER_VERSION === 'string') return RELAY_BARTENDER_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Open handles (keep-alive sockets to the backend) must not hold the process after a stop.
    if (code !== 0 || process.listenerCount('SIGTERM') > 0) setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`relay-bartender: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
