import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

/** What a raw HTTP client received: every body byte as it came, and whether the body ended cleanly. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** True only when the message ended as its framing promised (content-length reached or last chunk seen). */
  readonly complete: boolean;
}

export interface RawRequestOptions {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  /** Called after each body chunk with everything received so far; return true to destroy the connection. */
  readonly onData?: (received: Buffer) => boolean | void;
}

/**
 * One request over a fresh node:http connection (no agent, no decompression). Resolves once the
 * response closed, normally or not: a cut body resolves with `complete: false` rather than rejecting,
 * so tests can look at exactly what arrived before the cut.
 */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (options.onData?.(Buffer.concat(chunks)) === true) req.destroy();
      });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    // After the head arrived, a cut is reported through `complete`, not as a rejection.
    req.on('error', (err) => {
      if (!responded) reject(err);
    });
    req.end(options.body);
  });
}
