import { maskSecret } from '../secret.js';
import type { RelayConfig } from './load.js';

/** The effective config for `--check`, with every secret masked. */
export function toPrintableConfig(config: RelayConfig): unknown {
  return {
    ...config,
    backend: { ...config.backend, api_key: maskSecret(config.backend.api_key) },
    backends: config.backends.map((b) => ({ ...b, keys: b.keys.map(maskSecret) })),
    auth: { ...config.auth, keys: config.auth.keys.map(maskSecret) },
  };
}
