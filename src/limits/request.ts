import type { AcquireRequest, ActualUsage, BudgetLimit, KeyLimits } from './types.js';

/**
 * Whole, non-negative token estimates and finite costs, whatever the caller computed; a limit that
 * is not a positive number (the schema never lets one through) counts as not configured.
 */
export function normalizeRequest(req: AcquireRequest): AcquireRequest {
  const tokens = Number.isFinite(req.tokens) && req.tokens > 0 ? Math.ceil(req.tokens) : 0;
  const cost = Number.isFinite(req.cost) && req.cost > 0 ? req.cost : 0;
  const limits = hasOnlyValidLimits(req.limits) ? req.limits : validLimits(req.limits);
  return tokens === req.tokens && cost === req.cost && limits === req.limits ? req : { ...req, tokens, cost, limits };
}

/** True when no limit is configured: nothing to check, count or store. */
export function isUnlimited(limits: KeyLimits): boolean {
  return limits.rpm === undefined && limits.tpm === undefined && limits.max_concurrency === undefined && limits.budget === undefined;
}

function isValid(n: number | undefined): boolean {
  return n === undefined || (Number.isFinite(n) && n > 0);
}

function hasOnlyValidLimits(l: KeyLimits): boolean {
  const b = l.budget;
  return isValid(l.rpm) && isValid(l.tpm) && isValid(l.max_concurrency) && (b === undefined || (isValid(b.tokens) && isValid(b.cost) && budgetLimit(b) > 0));
}

function validLimits(l: KeyLimits): KeyLimits {
  const pick = (n: number | undefined): number | undefined => (n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined);
  const b = l.budget;
  const tokens = pick(b?.tokens);
  const cost = pick(b?.cost);
  const budget: BudgetLimit | undefined =
    b === undefined ? undefined : tokens !== undefined ? { tokens, period: b.period } : cost !== undefined ? { cost, period: b.period } : undefined;
  return { rpm: pick(l.rpm), tpm: pick(l.tpm), max_concurrency: pick(l.max_concurrency), budget };
}

export function budgetLimit(budget: BudgetLimit): number {
  return budget.tokens ?? budget.cost ?? 0;
}

/** What a request reserves against its budget: tokens, or estimated USD. */
export function budgetAmount(budget: BudgetLimit, req: AcquireRequest): number {
  return budget.tokens !== undefined ? req.tokens : req.cost;
}

/**
 * actual − reserved. An unknown cost (null) keeps the reserved estimate; a nonsensical token count
 * (negative, NaN) keeps the estimate too.
 */
export function usageDelta(req: AcquireRequest, actual: ActualUsage): { tokens: number; cost: number } {
  const tokens = Number.isFinite(actual.tokens) && actual.tokens >= 0 ? actual.tokens - req.tokens : 0;
  const cost = actual.cost !== null && Number.isFinite(actual.cost) && actual.cost >= 0 ? actual.cost - req.cost : 0;
  return { tokens, cost };
}
