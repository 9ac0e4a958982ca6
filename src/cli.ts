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
  readonly help: boolean;
  readonly version: boolean;
}

export const USAGE = `Usage: relay-bartender [options]

An OpenAI-API-compatible relay: forwards every /v1 endpoint to the configured backend.

Options:
  -c, --config <file>      config file (default: config.yaml; run on defaults if it is missing)
  -p, --port <port>        listen on this port (overrides server.port)
      --host <address>     listen on this address (overrides server.host)
      --log-level <level>  trace, debug, info, warn, error, fatal or silent (overrides log.level)
      --log-format <fmt>   json, pretty or auto (overrides log.format)
      --check              validate the config, print it with secrets masked, exit 0 (valid) or 1
  -v, --version            print the version
  -h, --help               print this help
`;

/** Parses argv (without node and the script). Throws a TypeError with a readable message on bad input. */
export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
    },
  });
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
    help: values.help,
    version: values.version,
  };
}
