import type { BackendSpec } from '../config/backends.js';
import { compileNames, type NameMatcher } from './glob.js';

/** Backend indexes of one priority tier. */
export type Tier = readonly number[];

export interface RouteRule {
  readonly prefix: string;
  readonly backend: string;
}

/**
 * Which backends may serve a request, as priority tiers (best first). Decided once at start from
 * the config; per request it is a cached lookup, so 50 patterns cost one Map hit after the first
 * request for a name.
 */
export interface RouteTable {
  /** Tiers for a model name, or undefined when no backend serves it. */
  forModel(model: string): readonly Tier[] | undefined;
  /** For a request that names no model: the `routes` rule whose prefix matches, else the first backend. */
  forPath(apiPath: string): readonly Tier[];
  /** Whether any decision depends on the model (more than one backend, or one that does not serve `*`). */
  readonly needsModel: boolean;
}

const CACHE_LIMIT = 10_000;

export function createRouteTable(backends: readonly BackendSpec[], routes: readonly RouteRule[]): RouteTable {
  // A backend serves its `models` and the names its own `mapping` translates.
  const matchers: NameMatcher[] = backends.map((b) => compileNames([...b.models, ...Object.keys(b.mapping)]));
  const priorities = [...new Set(backends.map((b) => b.priority))].sort((a, b) => a - b);
  const cache = new Map<string, readonly Tier[] | null>();
  const byName = new Map(backends.map((b, i) => [b.name, i]));
  const rules = routes.map((r) => ({ prefix: toApiPrefix(r.prefix), tiers: [[byName.get(r.backend) ?? 0]] as readonly Tier[] }));
  const first: readonly Tier[] = [[0]];
  const everything = backends.length === 1 && backends[0]?.models.includes('*') === true && Object.keys(backends[0].mapping).length === 0;

  function compute(model: string): readonly Tier[] | null {
    const tiers: Tier[] = [];
    for (const p of priorities) {
      const tier = backends.flatMap((b, i) => (b.priority === p && (matchers[i] as NameMatcher)(model) ? [i] : []));
      if (tier.length > 0) tiers.push(tier);
    }
    return tiers.length > 0 ? tiers : null;
  }

  return {
    needsModel: !everything,
    forModel(model) {
      let hit = cache.get(model);
      if (hit === undefined) {
        hit = compute(model);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(model, hit);
      }
      return hit ?? undefined;
    },
    forPath(apiPath) {
      for (const rule of rules) {
        if (apiPath === rule.prefix || apiPath.startsWith(rule.prefix.endsWith('/') ? rule.prefix : `${rule.prefix}/`)) return rule.tiers;
      }
      return first;
    },
  };
}

/** `/v1/files` and `/files` name the same API path (the relay's paths are read without `/v1`). */
export function toApiPrefix(prefix: string): string {
  const trimmed = prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
  if (trimmed === '/v1') return '/';
  return trimmed.startsWith('/v1/') ? trimmed.slice(3) : trimmed;
}
