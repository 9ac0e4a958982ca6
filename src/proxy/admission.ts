import { isModelAllowed } from '../auth/client-keys.js';
import type { RelayContext } from '../context.js';
import { RelayError } from '../errors.js';
import type { Exchange } from '../http/exchange.js';
import { estimateTokens } from '../limits/estimate.js';
import type { KeyLimits } from '../limits/types.js';
import { ZERO_USAGE } from '../usage/record.js';

/**
 * Whether a client key may make this request: its model allow-list (403), then its limits (429,
 * or 503 when shared limits cannot be checked and the policy is fail_closed). A refused request
 * never reaches a backend. An admitted one reserves its estimate; the response settles it.
 */
export async function admit(ctx: RelayContext, ex: Exchange, body: Buffer | null, json: boolean): Promise<void> {
  const grant = ex.grant;
  if (grant === undefined) return;
  if (!isModelAllowed(grant, ex.asked)) throw modelNotAllowed(ex.asked);
  const limiter = ctx.usage.limiter;
  if (limiter === undefined || !hasLimits(grant.spec)) return;
  const tokens = estimateTokens(body, json);
  const model = ex.sent ?? ex.asked;
  const cost = grant.spec.budget?.cost === undefined || model === undefined ? 0 : (ctx.usage.cost(model, { ...ZERO_USAGE, prompt_tokens: tokens, total_tokens: tokens }) ?? 0);
  const admission = await limiter.acquire({ key: grant.name, limits: grant.spec, tokens, cost });
  if (!admission.ok) {
    throw new RelayError(admission.code, admission.message, { type: admission.type, headers: admission.headers });
  }
  ex.limitHeaders = admission.headers;
  if (ex.usage !== undefined) ex.usage.admission = admission;
  else {
    // No accounting (no usage read): the slot and the reservation end with the response.
    ex.onEnd(() => admission.release());
  }
}

export function hasLimits(limits: KeyLimits): boolean {
  return limits.rpm !== undefined || limits.tpm !== undefined || limits.max_concurrency !== undefined || limits.budget !== undefined;
}

/** Whether any key's limits need the tokens a response used (tpm, budgets). */
export function needsUsage(grants: readonly KeyLimits[]): boolean {
  return grants.some((k) => k.tpm !== undefined || k.budget !== undefined);
}

export function modelNotAllowed(model: string | undefined): RelayError {
  return new RelayError('model_not_allowed', `This key may not use the model \`${model ?? ''}\`.`, { param: 'model' });
}


