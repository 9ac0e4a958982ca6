import type { ClientKeyCheck } from './auth/client-keys.js';
import type { RelayConfig } from './config/load.js';
import type { CorsPolicy } from './http/cors.js';
import type { Logger } from './log.js';
import type { ModelCatalog } from './models/catalog.js';
import type { ModelResolver } from './proxy/model-policy.js';
import type { Balancer } from './routing/balancer.js';
import type { Health } from './routing/health.js';
import type { RouteTable } from './routing/table.js';
import type { Backend } from './upstream/backend.js';
import type { UsageService } from './usage/accounting.js';

/** Everything a request needs, decided once at start and passed in (never module globals). */
export interface RelayContext {
  readonly config: RelayConfig;
  readonly log: Logger;
  /** Every backend, in config order (the seed's `backend:` is the one named `default`). */
  readonly backends: readonly Backend[];
  readonly routes: RouteTable;
  readonly health: Health;
  readonly balancer: Balancer;
  /** With `backends`: /v1/models is the relay's own union; else it passes through. */
  readonly catalog: ModelCatalog | undefined;
  readonly resolveModel: ModelResolver;
  /** Whether request bodies must be read for their model (a rewrite, echo_alias or routing needs it). */
  readonly readModel: boolean;
  /** Whether bodies are kept so that a failed try can be sent again (retry.max_attempts > 1). */
  readonly replayable: boolean;
  readonly echoAlias: boolean;
  readonly cors: CorsPolicy;
  /** auth.keys: undefined when access is open. */
  readonly checkKey: ClientKeyCheck | undefined;
  /** Usage records, limits and prices. */
  readonly usage: UsageService;
  readonly state: RelayState;
}

/** The little that changes while the relay runs. */
export interface RelayState {
  inflight: number;
  shuttingDown: boolean;
  /** Called when inflight drops to zero during shutdown. */
  onIdle: (() => void) | undefined;
  /** Called once the shutdown grace is over, before connections are cut; awaited (open WebSocket sessions close with 1001). */
  onShutdown?: Set<() => Promise<void> | void>;
}

/** A request or session starts: graceful shutdown waits for it. */
export function enterInflight(state: RelayState): void {
  state.inflight++;
}

/** A request or session ended; the last one out during shutdown lets it finish. */
export function leaveInflight(state: RelayState): void {
  state.inflight--;
  if (state.inflight === 0 && state.onIdle !== undefined) state.onIdle();
}
