import { maskSecret } from '../secret.js';
import type { RelayConfig } from './load.js';

/** Header names whose values are credentials (a key put in a backend's extra `headers`). */
const SECRET_HEADER = /auth|key|token|secret|cookie|signature/i;

/** The effective config for `--check`, with every secret masked. */
export function toPrintableConfig(config: RelayConfig): unknown {
  return {
    ...config,
    backend: { ...config.backend, api_key: maskSecret(config.backend.api_key) },
    backends: config.backends.map((b) => ({
      ...b,
      keys: b.keys.map(maskSecret),
      headers: Object.fromEntries(Object.entries(b.headers).map(([name, value]) => [name, SECRET_HEADER.test(name) ? maskSecret(value) : value])),
    })),
    auth: { ...config.auth, keys: config.auth.keys.map((k) => ({ ...k, key: maskSecret(k.key) })) },
    state: { ...config.state, redis_url: maskUrl(config.state.redis_url) },
    usage: { ...config.usage, database: maskUrl(config.usage.database) },
    admin: { ...config.admin, key: maskSecret(config.admin.key) },
  };
}

/** A URL's password is a secret: `redis://:pw@host` → `redis://:<secret sha256:…>@host`. */
function maskUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)([^@]*)@/i, (_, head: string, password: string) => `${head}${maskSecret(password)}@`);
}
