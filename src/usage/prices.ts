import * as z from 'zod';
import { globToRegExp, isGlob } from '../routing/glob.js';
import type { UsageFigures } from './record.js';

/**
 * The price table (`usage.prices`): USD per 1M tokens, per model name or `*` glob (issue 5).
 *
 *   usage:
 *     prices:
 *       gpt-4o: { input: 2.5, output: 10, cached_input: 1.25 }
 *       "gpt-4o-mini*": { input: 0.15, output: 0.6 }
 *
 * A model's price is its exact entry when there is one; else the most specific glob that matches
 * it (the one with the most literal characters; on a tie, the first listed); else none, and the
 * cost is null. Cached prompt tokens are billed at `cached_input` when given, else at `input`;
 * the rest of the prompt at `input`; completion tokens (reasoning included) at `output`.
 */
export const modelPriceSchema = z.strictObject({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cached_input: z.number().nonnegative().optional(),
});

export const priceTableSchema = z.record(z.string().min(1), modelPriceSchema);

export type ModelPrice = z.infer<typeof modelPriceSchema>;
export type PriceTable = Readonly<Record<string, ModelPrice>>;
/** USD for one request's usage, or null when the model has no price. */
export type CostFunction = (model: string, usage: UsageFigures) => number | null;

const PER_TOKENS = 1_000_000;
/** Resolved prices are remembered per model name, up to this many names (clients pick names). */
const CACHE_LIMIT = 1_000;

export function compilePrices(table: PriceTable): CostFunction {
  const exact = new Map<string, ModelPrice>();
  const globs: { re: RegExp; literal: number; price: ModelPrice }[] = [];
  for (const [pattern, price] of Object.entries(table)) {
    if (isGlob(pattern)) globs.push({ re: globToRegExp(pattern), literal: pattern.replaceAll('*', '').length, price });
    else exact.set(pattern, price);
  }
  // Stable sort: on equal specificity, the first listed stays first.
  globs.sort((a, b) => b.literal - a.literal);
  const cache = new Map<string, ModelPrice | null>();

  const priceOf = (model: string): ModelPrice | null => {
    const known = exact.get(model);
    if (known !== undefined) return known;
    const cached = cache.get(model);
    if (cached !== undefined) return cached;
    const found = globs.find((g) => g.re.test(model))?.price ?? null;
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(model, found);
    return found;
  };

  return (model, usage) => {
    const price = priceOf(model);
    return price === null ? null : costOf(price, usage);
  };
}

/** USD for usage at one model's price. */
export function costOf(price: ModelPrice, usage: UsageFigures): number {
  const cached = Math.min(usage.cached_tokens, usage.prompt_tokens);
  const uncached = usage.prompt_tokens - cached;
  const micro = uncached * price.input + cached * (price.cached_input ?? price.input) + usage.completion_tokens * price.output;
  return micro / PER_TOKENS;
}
