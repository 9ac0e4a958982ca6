import { RelayError } from '../errors.js';
import type { RouteTable, Tier } from './table.js';

/**
 * The backends that may serve a request (HTTP or WebSocket): by its model, or for a request naming
 * none, by its path. A model no backend serves is refused before anything goes upstream.
 */
export function routeRequest(routes: RouteTable, model: string | undefined, apiPath: string): readonly Tier[] {
  if (model === undefined || !routes.needsModel) return routes.forPath(apiPath);
  const tiers = routes.forModel(model);
  if (tiers === undefined) throw modelNotFound(model);
  return tiers;
}

export function modelNotFound(model: string): RelayError {
  return new RelayError('model_not_found', `The model \`${model}\` does not exist or no backend of this relay serves it.`, { param: 'model' });
}
