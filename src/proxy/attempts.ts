import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pipeline, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RelayContext } from '../context.js';
import { RelayError } from '../errors.js';
import type { Exchange } from '../http/exchange.js';
import { triedId, type Choice } from '../routing/balancer.js';
import { backoffMs, retryAfterMs } from '../routing/retry.js';
import type { Tier } from '../routing/table.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamCall } from '../upstream/call.js';
import { toUpstreamHeaders, type RequestHeaderPolicy } from './headers.js';
import { rewriteJsonModel } from './model-rewrite.js';
import { MultipartModelRewriter } from './multipart-model.js';
import type { PreparedBody } from './request-body.js';
import { forwardResponse, type EchoAlias } from './response.js';
import type { Target } from './target.js';

export interface SendPlan {
  readonly target: Target;
  readonly prepared: PreparedBody;
  /** The model after the global `model` rules (each backend may still map it to its own name). */
  readonly model: string | undefined;
  readonly tiers: readonly Tier[];
  /** The JSON body with stream_options.include_usage added, for backends that accept it. */
  readonly withUsage: Buffer | undefined;
}

/**
 * The tries of one request. Each goes where the balancer says (best tier, weighted, keys in turn);
 * a try that failed before any byte reached the client is retried elsewhere: a connection error, a
 * timeout before the headers, or a status in `retry.on_status`. The response of the last try is
 * what the client gets, verbatim; after the head went out nothing is retried.
 */
export async function sendWithRetries(ctx: RelayContext, req: IncomingMessage, res: ServerResponse, ex: Exchange, plan: SendPlan): Promise<void> {
  const retry = ctx.config.retry;
  const maxAttempts = plan.prepared.replayable ? retry.max_attempts : 1;
  const maxWaitMs = retry.max_retry_after * 1000;
  const tried = new Set<number>();
  let choice = ctx.balancer.pick(plan.tiers, tried);
  for (let attempt = 1; choice !== undefined; attempt++) {
    const backend = ctx.backends[choice.backend] as Backend;
    // A first try goes at once (to the candidate back soonest when every one is out: the backend
    // decides); a retry waits its backoff, or until its key or backend is back (max_retry_after at most).
    if (attempt > 1) {
      const wait = Math.max(choice.waitMs, backoffMs(attempt - 1, retry.backoff, retry.max_backoff, Math.random));
      if (wait > 0) await sleep(wait, undefined, { signal: ex.signal });
    }
    tried.add(triedId(choice.backend, choice.key));
    ex.backend = backend.name;
    ex.attempts = attempt;
    ctx.health.begin(choice.backend);

    let up: UpstreamCall;
    try {
      up = await sendOnce(ctx, req, ex, plan, backend, choice.key).head;
    } catch (err) {
      if (ex.clientGone || !isBackendFailure(err)) {
        ctx.health.abandoned(choice.backend);
        throw err;
      }
      noteFailure(ctx, backend);
      const next = attempt < maxAttempts ? nextChoice(ctx, plan, tried, maxWaitMs) : undefined;
      if (next === undefined) throw err;
      (ex.retried ??= []).push(errorCode(err));
      choice = next;
      continue;
    }
    ex.upstreamHeaders = performance.now();
    const status = up.statusCode;
    if (status === 401 || status === 403) keyRejected(ctx, backend, choice.key, status);
    // A 5xx counts against the backend; any other answer shows it alive (a 429 rests only the key).
    if (status >= 500 && retry.on_status.includes(status)) noteFailure(ctx, backend);
    else ctx.health.succeeded(choice.backend);
    if (status === 429) ctx.health.throttled(choice.backend, choice.key, retryAfterMs(up.headers, Date.now()));
    if (retry.on_status.includes(status)) {
      const next = attempt < maxAttempts && !ex.clientGone ? nextChoice(ctx, plan, tried, maxWaitMs) : undefined;
      if (next !== undefined) {
        up.discard();
        (ex.retried ??= []).push(status);
        choice = next;
        continue;
      }
    }
    if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ request_id: ex.id, backend: backend.name, status, content_type: up.headers['content-type'] }, 'upstream response');
    await forwardResponse(ctx, res, ex, up, echoFor(ctx, ex));
    return;
  }
  throw new RelayError('upstream_unreachable', 'No backend could take the request.');
}

/**
 * The next try, if there is one worth making: a candidate not tried yet, else one already tried
 * (a single backend with one key is retried too, after its backoff); either way usable now or back
 * within max_retry_after.
 */
function nextChoice(ctx: RelayContext, plan: SendPlan, tried: ReadonlySet<number>, maxWaitMs: number): Choice | undefined {
  const next = ctx.balancer.pick(plan.tiers, tried) ?? ctx.balancer.pick(plan.tiers, NONE_TRIED);
  return next !== undefined && next.waitMs <= maxWaitMs ? next : undefined;
}

const NONE_TRIED: ReadonlySet<number> = new Set();

/** One try: headers for this backend and key, the body with this backend's model name. */
function sendOnce(ctx: RelayContext, req: IncomingMessage, ex: Exchange, plan: SendPlan, backend: Backend, key: number): UpstreamCall {
  const sent = plan.model === undefined ? undefined : (backend.mapModel(plan.model) ?? plan.model);
  if (sent !== undefined && ex.asked !== undefined) ex.sent = sent;
  const injectUsage = plan.withUsage !== undefined && backend.spec.stream_usage;
  if (ex.usage !== undefined) ex.usage.injected = injectUsage;
  const body = bodyFor(plan, sent, injectUsage);
  // A body the relay reads (echo_alias, usage) must come unencoded.
  const identity = echoFor(ctx, ex) !== undefined || ex.usage !== undefined;
  const add: string[] = ['x-request-id', ex.id];
  if (identity) add.push('accept-encoding', 'identity');
  const headers = toUpstreamHeaders(req.rawHeaders, backend.policies[key] as RequestHeaderPolicy, {
    contentLength: body.contentLength,
    alsoDrop: identity ? [ex.accessHeader, 'accept-encoding'] : [ex.accessHeader],
    add,
    client: req.socket,
  });
  const path = backend.path(plan.target);
  if (ctx.log.isLevelEnabled('debug')) {
    // Header names only: values may be keys.
    ctx.log.debug({ request_id: ex.id, backend: backend.name, attempt: ex.attempts, path, headers: headers.filter((_, i) => i % 2 === 0) }, 'upstream request');
  }
  ex.upstreamStart = performance.now();
  const call = backend.upstream.send({ method: req.method ?? 'GET', path, headers, body: body.body });
  ex.call = call;
  return call;
}

interface AttemptBody {
  readonly body: Buffer | Readable | null;
  readonly contentLength: number | undefined;
}

/** The body of one try: as prepared, or with the model renamed for a backend with its own `mapping`. */
function bodyFor(plan: SendPlan, sent: string | undefined, injectUsage: boolean): AttemptBody {
  const { prepared } = plan;
  const json = injectUsage ? plan.withUsage : prepared.body;
  const spool = prepared.spool;
  if (spool !== undefined) {
    if (prepared.boundary !== undefined && sent !== undefined && sent !== prepared.asked) {
      const rewriter = new MultipartModelRewriter(prepared.boundary, () => sent);
      return { body: pipeline(spool.open(), rewriter, () => undefined), contentLength: undefined };
    }
    return { body: spool.buffer ?? spool.open(), contentLength: spool.length };
  }
  if (Buffer.isBuffer(json)) {
    const edited = sent !== undefined && sent !== plan.model ? rewriteJsonModel(json, () => sent, false).body : json;
    return { body: edited, contentLength: edited.length };
  }
  return { body: prepared.body, contentLength: prepared.contentLength };
}

/** When echo_alias is on and the name changed: the response says the name the client asked for. */
function echoFor(ctx: RelayContext, ex: Exchange): EchoAlias | undefined {
  return ctx.echoAlias && ex.asked !== undefined && ex.sent !== undefined && ex.asked !== ex.sent ? { asked: ex.asked, sent: ex.sent } : undefined;
}

/** A transport failure of the backend (refused, reset, timed out), not the relay's or the client's. */
function isBackendFailure(err: unknown): boolean {
  if (err instanceof RelayError || typeof err !== 'object' || err === null) return false;
  const { code, name } = err as { code?: unknown; name?: unknown };
  return typeof code === 'string' && name !== 'AbortError' && code !== 'UND_ERR_ABORTED';
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'error';
}

function noteFailure(ctx: RelayContext, backend: Backend): void {
  if (ctx.health.failed(backend.index)) {
    ctx.log.warn({ backend: backend.name, cooldown_s: ctx.config.health.cooldown }, 'backend failing: taken out of rotation for the cooldown');
  }
}

function keyRejected(ctx: RelayContext, backend: Backend, key: number, status: number): void {
  if (!backend.hasKeys) return;
  ctx.health.rejected(backend.index, key);
  ctx.log.warn(
    { backend: backend.name, key_fingerprint: backend.fingerprints[key], status, cooldown_s: ctx.config.health.bad_key_cooldown },
    'backend rejected its key: the key is taken out of rotation',
  );
}
