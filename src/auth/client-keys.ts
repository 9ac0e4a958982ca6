import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RelayError } from '../errors.js';
import { compileNames, type NameMatcher } from '../routing/glob.js';
import type { ClientKeySpec } from './client-keys-schema.js';

/**
 * Client keys (issue 5): which configured client a request comes from. The key is accepted as
 * `Authorization: Bearer …`, `x-api-key` or `api-key`. The presented key is hashed (SHA-256) and
 * compared with timingSafeEqual against every configured key's digest, always all of them, so
 * neither the key's length nor the position of the match leaks through timing. Everything a
 * request needs (digests, model matchers, grants) is built once here.
 */

export type CredentialHeader = 'authorization' | 'x-api-key' | 'api-key';

/** The order headers are tried in: the first one carrying a configured key wins. */
export const CLIENT_KEY_HEADERS: readonly CredentialHeader[] = ['authorization', 'x-api-key', 'api-key'];

export interface ClientGrant {
  /** The key's name: what logs, limits and usage records carry (never the key). */
  readonly name: string;
  readonly spec: ClientKeySpec;
  /** The header that carried the key: it never travels upstream. */
  readonly header: CredentialHeader;
  /** The key's model allow-list, compiled once; use isModelAllowed. */
  readonly allowsModel: NameMatcher;
}

/** Throws RelayError `invalid_api_key` (401) for a missing, unknown or expired key. */
export type ClientKeyCheck = (headers: IncomingHttpHeaders) => ClientGrant;

interface Entry {
  readonly digest: Buffer;
  readonly spec: ClientKeySpec;
  /** One prebuilt grant per header, so a request allocates nothing. */
  readonly grants: Readonly<Record<CredentialHeader, ClientGrant>>;
}

const ALLOW_ALL: NameMatcher = () => true;

export function createClientKeyCheck(specs: readonly ClientKeySpec[], now: () => number = Date.now): ClientKeyCheck {
  const entries: Entry[] = specs.map((spec) => {
    const allowsModel = spec.models === undefined ? ALLOW_ALL : compileNames(spec.models);
    const grant = (header: CredentialHeader): ClientGrant => Object.freeze({ name: spec.name, spec, header, allowsModel });
    return {
      digest: sha256(spec.key),
      spec,
      grants: { authorization: grant('authorization'), 'x-api-key': grant('x-api-key'), 'api-key': grant('api-key') },
    };
  });

  /** Compares against every entry; no early exit, whatever the position of the match. */
  const match = (presented: string): Entry | undefined => {
    const digest = sha256(presented);
    let found: Entry | undefined;
    for (const entry of entries) {
      const equal = timingSafeEqual(digest, entry.digest);
      if (equal && found === undefined) found = entry;
    }
    return found;
  };

  return (headers) => {
    for (const header of CLIENT_KEY_HEADERS) {
      const presented = presentedKey(headers, header);
      if (presented === undefined) continue;
      const entry = match(presented);
      if (entry === undefined) continue;
      const expiresAt = entry.spec.expires_at;
      if (expiresAt !== undefined && now() >= expiresAt) {
        throw new RelayError('invalid_api_key', `This key expired at ${new Date(expiresAt).toISOString()}.`);
      }
      return entry.grants[header];
    }
    throw new RelayError('invalid_api_key');
  };
}

/**
 * Whether the key may use `model` (the model the client asked for). A request that names no model
 * (model listing, files, batches) has nothing to restrict, so it is allowed.
 */
export function isModelAllowed(grant: ClientGrant, model: string | undefined): boolean {
  return model === undefined || grant.allowsModel(model);
}

function presentedKey(headers: IncomingHttpHeaders, header: CredentialHeader): string | undefined {
  const raw = headers[header];
  if (typeof raw !== 'string' || raw === '') return undefined;
  if (header !== 'authorization') {
    const key = raw.trim();
    return key === '' ? undefined : key;
  }
  return /^\s*bearer\s+(\S+)\s*$/i.exec(raw)?.[1];
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
