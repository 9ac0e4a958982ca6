import type { Server } from 'node:http';
import { createClientKeyCheck } from './auth/client-keys.js';
import type { RelayConfig } from './config/load.js';
import type { RelayContext } from './context.js';
import { createCorsPolicy } from './http/cors.js';
import { createRelayServer } from './http/server.js';
import type { Logger } from './log.js';
import { createMemoryLimiter } from './limits/memory.js';
import type { Limiter } from './limits/types.js';
import { createModelCatalog, type ModelCatalog } from './models/catalog.js';
import { hasLimits, needsUsage } from './proxy/admission.js';
import { createModelResolver, isIdentityPolicy, type ModelResolver } from './proxy/model-policy.js';
import { Balancer } from './routing/balancer.js';
import { isGlob } from './routing/glob.js';
import { Health } from './routing/health.js';
import { createRouteTable, type RouteTable } from './routing/table.js';
import { createBackend, fetchBackendModels, type Backend } from './upstream/backend.js';
import { deferStore, type UsageService } from './usage/accounting.js';
import { compilePrices } from './usage/prices.js';
import { openUsageStore } from './usage/store.js';

export interface Relay {
  readonly server: Server;
  readonly context: RelayContext;
  /** Stops accepting, lets in-flight requests finish up to `graceMs`, then closes what is left. */
  shutdown(graceMs: number): Promise<void>;
  /** Resolves when shared limits (Redis) answer, or after a short wait (then the policy applies until they do). */
  ready(): Promise<void>;
}

/** Builds everything once from the frozen config: backends and their pools, routes, health, model resolver, CORS policy. */
export function createRelay(config: RelayConfig, log: Logger): Relay {
  const backends = config.backends.map((spec, i) => createBackend(spec, i, { forwardClientIp: config.server.forward_client_ip }));
  const routes = createRouteTable(config.backends, config.routes);
  const health = new Health(
    config.backends.map((b) => b.keys.length),
    { failureThreshold: config.health.failure_threshold, cooldownMs: config.health.cooldown * 1000, badKeyCooldownMs: config.health.bad_key_cooldown * 1000 },
  );
  const resolveModel = createModelResolver(config.model);
  const usage = createUsageService(config, log);
  const keys = config.auth.keys;
  // Bodies are read for their model when a rewrite, echo_alias, routing, a key's model list or usage needs it.
  const readModel = !isIdentityPolicy(config.model) || config.model.echo_alias || routes.needsModel || usage.active || keys.some((k) => k.models !== undefined);
  const context: RelayContext = {
    config,
    log,
    backends,
    routes,
    health,
    balancer: new Balancer(health, config.backends.map((b) => ({ weight: b.weight, keys: b.keys.length }))),
    // The seed's single backend keeps its pass-through /v1/models; a gateway answers it itself.
    catalog: config.backends.length > 1 || routes.needsModel ? createCatalog(config, log, backends, routes, resolveModel) : undefined,
    resolveModel,
    readModel,
    // Kept whole before sending when a retry may resend it, or routing / a key's model list needs a multipart model.
    replayable: config.retry.max_attempts > 1 || routes.needsModel || keys.some((k) => k.models !== undefined),
    echoAlias: config.model.echo_alias,
    cors: createCorsPolicy(config.server.cors),
    checkKey: keys.length === 0 ? undefined : createClientKeyCheck(keys),
    usage,
    state: { inflight: 0, shuttingDown: false, onIdle: undefined },
  };
  const server = createRelayServer(context);
  return {
    server,
    context,
    shutdown: (graceMs) => shutdown(server, context, graceMs),
    ready: async () => {
      const limiter = context.usage.limiter as (Limiter & { ready?: (timeoutMs: number) => Promise<void> }) | undefined;
      await limiter?.ready?.(REDIS_READY_MS).catch((err: unknown) => {
        log.warn({ reason: err instanceof Error ? err.message : String(err), policy: config.state.on_redis_error }, 'Redis is not reachable yet: limits follow state.on_redis_error until it is');
      });
    },
  };
}

/** How long start-up waits for Redis before listening anyway. */
const REDIS_READY_MS = 3000;

/** Usage records (with a store), prices, and the limiter (in memory, or shared through Redis). */
function createUsageService(config: RelayConfig, log: Logger): UsageService {
  const keys = config.auth.keys;
  let limiter: Limiter | undefined;
  if (keys.some(hasLimits)) {
    limiter =
      config.state.redis_url === ''
        ? createMemoryLimiter()
        : lazyLimiter(() =>
            import('./limits/redis.js').then(({ createRedisLimiter }) =>
              createRedisLimiter({ url: config.state.redis_url, policy: config.state.on_redis_error, timeoutMs: config.state.redis_timeout * 1000, log }),
            ),
          );
  }
  const store = config.usage.database === '' ? undefined : deferStore(openUsageStore(config.usage.database, { log }));
  return {
    active: store !== undefined || needsUsage(keys),
    store,
    cost: compilePrices(config.usage.prices),
    limiter,
    log,
  };
}

/** The Redis client is loaded only when it is configured (start-up time: issue 3). */
function lazyLimiter(load: () => Promise<Limiter & { ready(timeoutMs?: number): Promise<void> }>): Limiter & { ready(timeoutMs?: number): Promise<void> } {
  const loading = load();
  return {
    acquire: async (request) => (await loading).acquire(request),
    close: async () => (await loading).close(),
    ready: async (timeoutMs) => (await loading).ready(timeoutMs),
  };
}

function createCatalog(config: RelayConfig, log: Logger, backends: readonly Backend[], routes: RouteTable, resolve: ModelResolver): ModelCatalog {
  const ownerOf = (name: string): string | undefined => {
    const model = resolve(name) ?? name;
    const first = routes.forModel(model)?.[0]?.[0];
    return first === undefined ? undefined : backends[first]?.name;
  };
  const configured: { id: string; owner: string }[] = [];
  for (const alias of Object.keys(config.model.mapping)) configured.push({ id: alias, owner: ownerOf(alias) ?? 'relay-bartender' });
  for (const b of config.backends) {
    for (const name of [...b.models.filter((m) => !isGlob(m)), ...Object.keys(b.mapping)]) configured.push({ id: name, owner: b.name });
  }
  return createModelCatalog({
    configured,
    sources: backends
      .filter((b) => b.spec.list_models)
      .map((b) => {
        const reverse = new Map<string, string[]>();
        for (const [alias, provider] of Object.entries(b.spec.mapping)) reverse.set(provider, [...(reverse.get(provider) ?? []), alias]);
        return { name: b.name, fetch: () => fetchBackendModels(b, config.model.list_timeout * 1000), aliasesOf: (id: string) => reverse.get(id) ?? [] };
      }),
    routable: (name) => ownerOf(name) !== undefined,
    ownerOf,
    ttlMs: config.model.list_ttl * 1000,
    onSourceError: (backend, err) => log.warn({ backend, reason: err instanceof Error ? err.message : String(err) }, 'backend model list unavailable: left out of /v1/models'),
  });
}

async function shutdown(server: Server, ctx: RelayContext, graceMs: number): Promise<void> {
  ctx.state.shuttingDown = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (ctx.state.inflight > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      timer.unref();
      ctx.state.onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  await Promise.all([...(ctx.state.onShutdown ?? [])].map((close) => close()));
  server.closeAllConnections();
  await closed;
  await Promise.all(ctx.backends.map((b) => b.upstream.close().catch(() => undefined)));
  // Every finished request's record is written before the process ends.
  await Promise.all([ctx.usage.store?.close(), ctx.usage.limiter?.close()].map((p) => p?.catch(() => undefined)));
}
