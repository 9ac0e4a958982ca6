import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const VALID_REQUEST_ID = /^[\w.:@/+=-]{1,200}$/;

/** The client's x-request-id when it is a sane token, else a new UUID: sent upstream, returned, logged. */
export function toRequestId(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : randomUUID();
}
