import type { RelayContext } from '../context.js';
import { RelayError, isRelayError } from '../errors.js';
import { classifyUpstreamError } from '../upstream/classify.js';

/**
 * A failure before the client's handshake was answered, as the status it gets. Transport errors
 * (with a code: ECONNREFUSED, TLS…) go through the HTTP classifier; ws's own handshake failures
 * carry no code: a timeout is request.connect_timeout, anything else is a broken handshake (502).
 * A TypeError from our own code is a bug: logged, answered 500.
 */
export function toRelayError(err: unknown, ctx: RelayContext, requestId: string): RelayError {
  if (isRelayError(err)) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string') return classifyUpstreamError(err, false);
  if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError)) {
    if (err.message === HANDSHAKE_TIMEOUT) {
      return new RelayError('upstream_connect_timeout', 'The WebSocket handshake with the backend timed out (request.connect_timeout).');
    }
    return new RelayError('upstream_connection_error', `The WebSocket handshake with the backend failed (${err.message}).`);
  }
  ctx.log.error({ request_id: requestId, err }, 'unexpected error');
  return new RelayError('internal_error');
}

/** ws's message when handshakeTimeout elapses (ws 8, lib/websocket.js). */
const HANDSHAKE_TIMEOUT = 'Opening handshake has timed out';
