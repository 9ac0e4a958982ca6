import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export interface LogConfig {
  readonly level: string;
  readonly format: 'auto' | 'json' | 'pretty';
}

/**
 * One pino logger per process. JSON lines go to stdout through an asynchronous destination, so
 * logging stays off the request's critical path; `pretty` (or `auto` on a terminal) is for people.
 * Nothing the relay logs carries a key: request headers are never logged, and the paths below are
 * censored as a second line of defence.
 */
export async function createLogger(config: LogConfig, destination?: DestinationStream): Promise<{ log: Logger; flush: () => void }> {
  const pretty = config.format === 'pretty' || (config.format === 'auto' && process.stdout.isTTY === true);
  const options = {
    level: config.level,
    base: undefined,
    redact: {
      paths: ['headers.authorization', 'headers["api-key"]', 'headers["x-api-key"]', 'api_key', 'key', '*.api_key', 'authorization'],
      censor: '[redacted]',
    },
  };
  if (destination !== undefined) return { log: pino(options, destination), flush: () => undefined };
  if (pretty) {
    // Loaded only when used: it costs start-up time and memory a JSON-logging server never needs.
    const { build: buildPretty } = await import('pino-pretty');
    const stream = buildPretty({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
    return { log: pino(options, stream), flush: () => undefined };
  }
  const dest = pino.destination({ dest: 1, sync: false, minLength: 0 });
  return {
    log: pino(options, dest),
    flush: () => {
      try {
        dest.flushSync();
      } catch {
        // flushSync throws while the destination is still opening; nothing is buffered then.
      }
    },
  };
}
