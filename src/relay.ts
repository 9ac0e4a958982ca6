import type { Server } from 'node:http';
import { createAccessCheck } from './auth/access-keys.js';
import type { RelayConfig } from './config/load.js';
import type { RelayContext } from './context.js';
import { createCorsPolicy } from './http/cors.js';
import { createRelayServer } from './http/server.js';
import type { Logger } from './log.js';
import { createRequestHeaderPolicy } from './proxy/headers.js';
import { createModelResolver, isIdentityPolicy } from './proxy/model-policy.js';
import { createUpstream } from './upstream/client.js';

export interface Relay {
  readonly server: Server;
  readonly context: RelayContext;
  /** Stops accepting, lets in-flight requests finish up to `graceMs`, then closes what is left. */
  shutdown(graceMs: number): Promise<void>;
}

/** Builds everything once from the frozen config: the key injector, model resolver, CORS policy, upstream. */
export function createRelay(config: RelayConfig, log: Logger): Relay {
  const context: RelayContext = {
    config,
    log,
    upstream: createUpstream({
      name: 'default',
      base_url: config.backend.base_url,
      timeout: config.request.timeout,
      connect_timeout: config.request.connect_timeout,
    }),
    resolveModel: createModelResolver(config.model),
    readModel: !isIdentityPolicy(config.model) || config.model.echo_alias,
    echoAlias: config.model.echo_alias,
    headerPolicy: createRequestHeaderPolicy({ apiKey: config.backend.api_key, forwardClientIp: config.server.forward_client_ip }),
    cors: createCorsPolicy(config.server.cors),
    checkAccess: createAccessCheck(config.auth.keys),
    state: { inflight: 0, shuttingDown: false, onIdle: undefined },
  };
  const server = createRelayServer(context);
  return { server, context, shutdown: (graceMs) => shutdown(server, context, graceMs) };
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
  await ctx.upstream.close().catch(() => undefined);
}
