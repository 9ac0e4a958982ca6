/**
 * `${VAR}` and `${VAR:-default}` in string values, so keys need not sit in files. `$${` is a literal
 * `${`. A missing variable without a default is a config error naming the key that referenced it.
 */

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

export interface EnvProblem {
  readonly path: string;
  readonly variable: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Expands references in every string of a parsed YAML tree; returns a new tree and the problems. */
export function expandEnv(tree: unknown, env: Env): { value: unknown; problems: EnvProblem[] } {
  const problems: EnvProblem[] = [];
  const value = walk(tree, '', env, problems);
  return { value, problems };
}

function walk(node: unknown, path: string, env: Env, problems: EnvProblem[]): unknown {
  if (typeof node === 'string') return expandString(node, path, env, problems);
  if (Array.isArray(node)) return node.map((item, i) => walk(item, `${path}[${i}]`, env, problems));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      Object.defineProperty(out, key, {
        value: walk(child, path ? `${path}.${key}` : key, env, problems),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return node;
}

function expandString(text: string, path: string, env: Env, problems: EnvProblem[]): unknown {
  if (!text.includes('${')) return text;
  const expanded = text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (name === undefined) return '${';
    const fromEnv = Object.hasOwn(env, name) ? env[name] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (fallback !== undefined) return fallback;
    if (fromEnv === '') return '';
    problems.push({ path, variable: name });
    return match;
  });
  // `port: ${PORT:-8080}` should be a number, as if the value had been written in the file.
  if (WHOLE_REFERENCE.test(text)) return toScalar(expanded);
  return expanded;
}

function toScalar(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}
