import type { ModelResolver } from './model-policy.js';
import type { Target } from './target.js';

const MODELS_PREFIX = '/models/';

/**
 * `GET /v1/models/{model}` names a model in its path: it is resolved like a body's `model`. Only GET:
 * a DELETE of a fine-tuned model must never be redirected to another name.
 */
export function rewriteModelPath(
  target: Target,
  method: string | undefined,
  resolve: ModelResolver,
  names: { asked: string | undefined; sent: string | undefined },
): Target {
  if (method !== 'GET' || !target.apiPath.startsWith(MODELS_PREFIX) || target.apiPath.length === MODELS_PREFIX.length) return target;
  const raw = target.apiPath.slice(MODELS_PREFIX.length);
  let asked: string;
  try {
    asked = decodeURIComponent(raw);
  } catch {
    return target;
  }
  const sent = resolve(asked) ?? asked;
  names.asked = asked;
  names.sent = sent;
  if (sent === asked) return target;
  return { apiPath: MODELS_PREFIX + encodeURIComponent(sent), query: target.query };
}
