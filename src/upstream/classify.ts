import { RelayError, isRelayError } from '../errors.js';

/**
 * The one place a transport failure becomes a status: unreachable → 502, too slow → 504, client
 * gone → 499 (logged only: nobody is left to read it). Messages carry the error code, never a URL
 * with credentials or a header.
 */
export function classifyUpstreamError(err: unknown, clientGone: boolean): RelayError {
  if (isRelayError(err)) return err;
  if (clientGone) return new RelayError('client_closed_request');
  const coded = findCoded(err);
  const code = coded?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new RelayError('upstream_connect_timeout', 'Connecting to the backend timed out (request.connect_timeout).');
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new RelayError('upstream_timeout', 'The backend sent no response headers in time (request.timeout).');
    case 'UND_ERR_BODY_TIMEOUT':
      return new RelayError('upstream_timeout', 'The backend stopped sending the response body (request.timeout).');
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new RelayError('upstream_unreachable', `The backend could not be reached (${code}).`);
    case 'ETIMEDOUT':
      // The kernel gives up on a connection both while connecting and once it is open (no ACKs).
      return coded?.syscall === 'connect'
        ? new RelayError('upstream_connect_timeout', 'Connecting to the backend timed out (ETIMEDOUT).')
        : new RelayError('upstream_timeout', 'The connection to the backend timed out (ETIMEDOUT).');
    default:
      return new RelayError('upstream_connection_error', `The connection to the backend failed (${code ?? 'unknown error'}).`);
  }
}

interface Coded {
  readonly code: string;
  readonly syscall: unknown;
}

/** The error (or cause) whose code says what happened, with the syscall it failed in. */
function findCoded(err: unknown): Coded | undefined {
  let current: unknown = err;
  // undici wraps socket errors; the useful code may sit on the cause.
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const { code, syscall, cause } = current as { code?: unknown; syscall?: unknown; cause?: unknown };
    if (typeof code === 'string' && (code !== 'UND_ERR_SOCKET' || cause === undefined)) return { code, syscall };
    current = cause;
  }
  const top = err as { code?: unknown; syscall?: unknown } | null | undefined;
  return typeof top?.code === 'string' ? { code: top.code, syscall: top.syscall } : undefined;
}
