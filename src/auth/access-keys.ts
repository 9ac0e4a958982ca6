import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RelayError } from '../errors.js';
import { CREDENTIAL_HEADERS } from '../proxy/headers.js';
import { fingerprint } from '../secret.js';

/**
 * Client access keys (auth.keys). A request must carry one as `Authorization: Bearer …`, `x-api-key`
 * or `api-key`. Keys are compared as SHA-256 digests with timingSafeEqual, against every configured
 * key, so neither the length nor the position of a match leaks through timing.
 */

export interface AccessGrant {
  /** The header that carried the relay key: it never travels upstream. */
  readonly header: string;
  /** Fingerprint of the key, for logs. */
  readonly key: string;
}

/** Undefined when access is open (no keys configured). Throws RelayError `invalid_api_key`. */
export type AccessCheck = (headers: IncomingHttpHeaders) => AccessGrant;

export function createAccessCheck(keys: readonly string[]): AccessCheck | undefined {
  if (keys.length === 0) return undefined;
  const digests = keys.map((k) => ({ digest: sha256(k), fingerprint: fingerprint(k) }));

  const match = (presented: string): string | undefined => {
    const d = sha256(presented);
    let found: string | undefined;
    for (const entry of digests) if (timingSafeEqual(d, entry.digest) && found === undefined) found = entry.fingerprint;
    return found;
  };

  return (headers) => {
    for (const header of CREDENTIAL_HEADERS) {
      const raw = headers[header];
      if (typeof raw !== 'string' || raw === '') continue;
      const presented = header === 'authorization' ? bearerToken(raw) : raw.trim();
      if (presented === undefined) continue;
      const key = match(presented);
      if (key !== undefined) return { header, key };
    }
    throw new RelayError('invalid_api_key');
  };
}

function bearerToken(value: string): string | undefined {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(value);
  return m?.[1];
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
