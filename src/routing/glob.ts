/**
 * Model-name patterns: exact names and `*` globs (`gpt-4o*`, `deepseek-*`, `*`). Compiled once at
 * start into one matcher: exact names in a Set, globs as anchored regular expressions. Matching is
 * case-sensitive, as providers' model names are.
 */
export type NameMatcher = (name: string) => boolean;

export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** One matcher for a list of patterns; `*` alone matches every name. */
export function compileNames(patterns: readonly string[]): NameMatcher {
  if (patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !isGlob(p)));
  const globs = patterns.filter(isGlob).map(globToRegExp);
  if (globs.length === 0) return (name) => exact.has(name);
  return (name) => exact.has(name) || globs.some((re) => re.test(name));
}
