import type { ServerResponse } from 'node:http';
import { toErrorBody, type RelayError } from '../errors.js';

/** The only writer of relay-made JSON. Upstream bodies never pass through here. */
export function sendJson(res: ServerResponse, status: number, body: string, headers: readonly string[], head = false): void {
  const out = [...headers, 'content-type', 'application/json', 'content-length', String(Buffer.byteLength(body))];
  res.writeHead(status, out);
  res.end(head ? undefined : body);
}

/** An OpenAI-shaped error. After the head went out nothing can be said: the caller tears the response down. */
export function sendError(res: ServerResponse, err: RelayError, headers: readonly string[]): void {
  if (res.headersSent || res.destroyed) return;
  const withOwn = err.headers.length === 0 ? headers : [...headers, ...err.headers];
  const extra = err.status === 413 || err.status === 408 || err.status === 400 ? [...withOwn, 'connection', 'close'] : withOwn;
  sendJson(res, err.status, toErrorBody(err), extra);
}

/** The SSE event that ends a stream the backend broke, so clients see an error rather than a short answer. */
export function toStreamErrorEvent(err: RelayError): string {
  return `\n\ndata: ${toErrorBody(err)}\n\n`;
}
