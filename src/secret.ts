import { createHash } from 'node:crypto';

/** A short, stable, non-reversible name for a secret: what logs and --check show instead of it. */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}

/** How a secret is printed anywhere: never the value, at most its fingerprint. */
export function maskSecret(secret: string): string {
  return secret === '' ? '' : `<secret ${fingerprint(secret)}>`;
}
