/**
 * Streams a multipart/form-data upload generated on the fly: one 64 KiB buffer is written again
 * and again with backpressure, so the client never holds the file in memory.
 */
import { request, type ClientRequest } from 'node:http';
import { CLIENT_API_KEY } from './payloads.js';

const PIECE = Buffer.alloc(64 * 1024, 'relay-bartender-upload-');
const BOUNDARY = '----relay-bartender-bench-boundary';

export interface UploadResult {
  readonly status: number;
  readonly sentBytes: number;
  /** Body bytes the mock counted (from its JSON reply), NaN when unreadable. */
  readonly receivedBytes: number;
  readonly wallMs: number;
}

function createEnvelope(fileBytes: number): { head: Buffer; tail: Buffer; length: number } {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench.wav"\r\n` +
      'Content-Type: audio/wav\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return { head, tail, length: head.length + fileBytes + tail.length };
}

function* generateFileBytes(fileBytes: number): Generator<Buffer> {
  const whole = Math.floor(fileBytes / PIECE.length);
  for (let i = 0; i < whole; i += 1) yield PIECE;
  const rest = fileBytes - whole * PIECE.length;
  if (rest > 0) yield PIECE.subarray(0, rest);
}

/** Resolves on 'drain' or 'close', whichever comes first, and leaves no listener behind. */
function waitForDrain(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

function readBytesField(body: string): number {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'bytes' in parsed && typeof parsed.bytes === 'number') {
      return parsed.bytes;
    }
  } catch {
    // Not JSON: reported as NaN.
  }
  return Number.NaN;
}

export async function sendUpload(url: string, fileBytes: number, timeoutMs: number): Promise<UploadResult> {
  const envelope = createEnvelope(fileBytes);
  const startedAt = performance.now();
  const req = request(url, {
    method: 'POST',
    agent: false,
    timeout: timeoutMs,
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': String(envelope.length),
      authorization: `Bearer ${CLIENT_API_KEY}`,
    },
  });
  req.once('timeout', () => req.destroy(new Error(`upload timed out after ${timeoutMs} ms`)));
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
      res.once('error', reject);
    });
  });
  response.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile
  const writeAll = async (): Promise<void> => {
    req.write(envelope.head);
    for (const piece of generateFileBytes(fileBytes)) {
      if (req.destroyed) return;
      if (!req.write(piece)) await waitForDrain(req);
    }
    req.end(envelope.tail);
  };
  await writeAll();
  const { status, body } = await response;
  return {
    status,
    sentBytes: envelope.length,
    receivedBytes: readBytesField(body),
    wallMs: performance.now() - startedAt,
  };
}
