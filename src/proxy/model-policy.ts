/**
 * model.override forces one name on every request; otherwise model.mapping maps aliases and unknown
 * names pass untouched. Built once at start; each request only calls the resolver.
 */
export type ModelResolver = (asked: string | undefined) => string | undefined;

export interface ModelPolicyConfig {
  readonly override: string;
  readonly mapping: Readonly<Record<string, string>>;
}

export function createModelResolver(config: ModelPolicyConfig): ModelResolver {
  if (config.override !== '') {
    const forced = config.override;
    return () => forced;
  }
  // A Map, not the object: a client naming "__proto__" or "constructor" must not find anything.
  const mapping = new Map(Object.entries(config.mapping));
  if (mapping.size === 0) return (asked) => asked;
  return (asked) => (asked === undefined ? undefined : (mapping.get(asked) ?? asked));
}

/** Whether the policy can change any name: if not, bodies need not be read for it. */
export function isIdentityPolicy(config: ModelPolicyConfig): boolean {
  return config.override === '' && Object.keys(config.mapping).length === 0;
}
