/**
 * Decodes one raw HTTP/1.1 response (status line, headers, chunked or length-delimited body),
 * just enough for the SSE client to check the bytes a proxy delivered.
 */

export interface DecodedResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Index of the first body byte, or -1 while the header is incomplete. */
export function findHeaderEnd(data: Buffer): number {
  const index = data.indexOf(HEADER_END);
  return index < 0 ? -1 : index + HEADER_END.length;
}

function parseHead(head: string): { status: number; headers: Map<string, string> } {
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers };
}

/** Joins the chunks of a chunked body; stops at the zero chunk or at malformed framing. */
export function decodeChunked(data: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (let guard = 0; guard < 1_000_000 && offset < data.length; guard += 1) {
    const lineEnd = data.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.toString('latin1', offset, lineEnd).split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size === 0) break;
    pieces.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(pieces);
}

/**
 * Total bytes (head + body) of a length-delimited response whose head ends at `bodyStart`, or
 * undefined when the body is chunked or runs until the connection closes.
 */
export function readFramedLength(data: Buffer, bodyStart: number): number | undefined {
  const { headers } = parseHead(data.toString('latin1', 0, bodyStart - 4));
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked') === true) return undefined;
  const length = Number(headers.get('content-length'));
  return Number.isInteger(length) && length >= 0 ? bodyStart + length : undefined;
}

export function decodeHttpResponse(data: Buffer): DecodedResponse {
  const bodyStart = findHeaderEnd(data);
  if (bodyStart < 0) return { status: 0, headers: new Map(), body: Buffer.alloc(0) };
  const { status, headers } = parseHead(data.toString('latin1', 0, bodyStart - 4));
  const raw = data.subarray(bodyStart);
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked') === true) {
    return { status, headers, body: decodeChunked(raw) };
  }
  const length = Number(headers.get('content-length') ?? raw.length);
  return { status, headers, body: raw.subarray(0, Number.isFinite(length) ? length : raw.length) };
}
