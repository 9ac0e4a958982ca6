/**
 * `GET /v1/models` with several backends: the names the relay can serve. The union of the names
 * the config makes routable (aliases and exact model names, so clients' model pickers show what
 * works) and each backend's own list (fetched on demand, cached for `model.list_ttl`; a backend
 * that fails or is slow to list is left out of that answer, never failing it). Only routable names
 * are shown: a model a backend lists but no rule routes to it could not be used.
 */
export interface ModelEntry {
  readonly id: string;
  readonly object: string;
  readonly created: number;
  readonly owned_by: string;
  readonly [field: string]: unknown;
}

export interface ModelSource {
  readonly name: string;
  /** The backend's `/models` answer's `data`, or a rejection. */
  fetch(): Promise<readonly unknown[]>;
  /** provider name → the client names (aliases) that reach it on this backend. */
  readonly aliasesOf: (providerName: string) => readonly string[];
}

export interface CatalogOptions {
  /** Names written in the config (mapping aliases, exact model names), with the backend that serves each. */
  readonly configured: readonly { readonly id: string; readonly owner: string }[];
  readonly sources: readonly ModelSource[];
  /** Whether a client may ask for this name (it resolves to some backend). */
  readonly routable: (name: string) => boolean;
  /** The backend that would serve a name first, for `owned_by` of names no list describes. */
  readonly ownerOf: (name: string) => string | undefined;
  readonly ttlMs: number;
  readonly now?: () => number;
  readonly onSourceError?: (source: string, err: unknown) => void;
}

export interface ModelCatalog {
  list(): Promise<ModelEntry[]>;
  /** The entry for a routable name (synthesized when no list describes it), else undefined. */
  get(id: string): Promise<ModelEntry | undefined>;
}

interface Cached {
  at: number;
  entries: readonly unknown[];
}

/** A failed list is retried after this long at most, however long the TTL. */
const FAILURE_TTL_MS = 10_000;

export function createModelCatalog(options: CatalogOptions): ModelCatalog {
  const now = options.now ?? Date.now;
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<readonly unknown[]>>();

  function fromSource(source: ModelSource): Promise<readonly unknown[]> {
    const hit = cache.get(source.name);
    if (hit !== undefined && now() - hit.at < options.ttlMs) return Promise.resolve(hit.entries);
    const inflight = pending.get(source.name);
    if (inflight !== undefined) return inflight;
    const started = source
      .fetch()
      .then(
        (entries) => {
          cache.set(source.name, { at: now(), entries });
          return entries;
        },
        (err: unknown) => {
          options.onSourceError?.(source.name, err);
          // Kept for a short while (the stale list if there was one), so a dead backend does not slow every call.
          const stale = hit?.entries ?? [];
          cache.set(source.name, { at: now() - Math.max(0, options.ttlMs - FAILURE_TTL_MS), entries: stale });
          return stale;
        },
      )
      .finally(() => pending.delete(source.name));
    pending.set(source.name, started);
    return started;
  }

  async function list(): Promise<ModelEntry[]> {
    const lists = await Promise.all(options.sources.map(fromSource));
    const out = new Map<string, ModelEntry>();
    const add = (entry: ModelEntry): void => {
      if (!out.has(entry.id) && options.routable(entry.id)) out.set(entry.id, entry);
    };
    lists.forEach((entries, i) => {
      const source = options.sources[i] as ModelSource;
      for (const raw of entries) {
        const entry = toEntry(raw, source.name);
        if (entry === undefined) continue;
        add(entry);
        for (const alias of source.aliasesOf(entry.id)) add({ ...entry, id: alias });
      }
    });
    for (const { id, owner } of options.configured) add(synthesize(id, owner));
    return [...out.values()];
  }

  return {
    list,
    async get(id) {
      if (!options.routable(id)) return undefined;
      const found = (await list()).find((e) => e.id === id);
      return found ?? synthesize(id, options.ownerOf(id) ?? 'relay-bartender');
    },
  };
}

function synthesize(id: string, owner: string): ModelEntry {
  return { id, object: 'model', created: 0, owned_by: owner };
}

function toEntry(raw: unknown, source: string): ModelEntry | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const record = raw as Record<string, unknown>;
  if (typeof record.id !== 'string' || record.id === '') return undefined;
  return {
    ...record,
    id: record.id,
    object: typeof record.object === 'string' ? record.object : 'model',
    created: typeof record.created === 'number' ? record.created : 0,
    owned_by: typeof record.owned_by === 'string' ? record.owned_by : source,
  };
}
