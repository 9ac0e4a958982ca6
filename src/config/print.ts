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
    auth: { ...config.auth, keys: config.auth.keys.map(maskSecret) },
  };
}
