import { parseArgs } from 'node:util';

export interface CliOptions {
  readonly config: string;
  /** Whether -c was given (a missing default config.yaml is allowed, a named one is not). */
  readonly configGiven: boolean;
  readonly port: number | undefined;
  readonly host: string | undefined;
  readonly logLevel: string | undefined;
  readonly logFormat: string | undefined;
  readonly check: boolean;
  /** `relay-bartender usage …`: print the usage report instead of running. */
  readonly command: 'run' | 'usage';
  readonly since: string;
  readonly by: string;
  readonly json: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

export const USAGE = `Usage: relay-bartender [options]
       relay-bartender usage [--since 7d] [--by key|model|backend|day] [--json] [-c config.yaml]

An OpenAI-API-compatible relay: forwards every /v1 endpoint to the configured backend.

Options:
  -c, --config <file>      config file (default: config.yaml; run on defaults if it is missing)
  -p, --port <port>        listen on this port (overrides server.port)
      --host <address>     listen on this address (overrides server.host)
      --log-level <level>  trace, debug, info, warn, error, fatal or silent (overrides log.level)
      --log-format <fmt>   json, pretty or auto (overrides log.format)
      --check              validate the config, print it with secrets masked, exit 0 (valid) or 1

Usage report (reads usage.database from the config):
      --since <when>       30m, 24h, 7d, 2w or a date such as 2026-11-01 (default 7d)
      --by <what>          key, model, backend or day (default key)
      --json               print JSON instead of a table

  -v, --version            print the version
  -h, --help               print this help
`;

/** Parses argv (without node and the script). Throws a TypeError with a readable message on bad input. */
export function parseCli(argv: readonly string[]): CliOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      check: { type: 'boolean', default: false },
      since: { type: 'string', default: '7d' },
      by: { type: 'string', default: 'key' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
    },
  });
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'usage')) {
    throw new TypeError(`unknown command "${positionals.join(' ')}" (the only command is "usage")`);
  }
  const command = positionals[0] === 'usage' ? 'usage' : 'run';
  if (command === 'run' && (argv.includes('--since') || argv.includes('--by') || argv.includes('--json'))) {
    throw new TypeError('--since, --by and --json go with the usage command: relay-bartender usage --since 7d');
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new TypeError(`--port: expected a port number from 0 to 65535, got "${values.port}"`);
  }
  return {
    config: values.config ?? 'config.yaml',
    configGiven: values.config !== undefined,
    port,
    host: values.host,
    logLevel: values['log-level'],
    logFormat: values['log-format'],
    check: values.check,
    command,
    since: values.since,
    by: values.by,
    json: values.json,
    help: values.help,
    version: values.version,
  };
}
