import type { ClientGrant } from '../auth/client-keys.js';
import type { Admitted, Limiter } from '../limits/types.js';
import type { Logger } from '../log.js';
import { usageFromJson } from './extract.js';
import { isoTimeOf } from './iso-time.js';
import type { CostFunction } from './prices.js';
import type { UsageFigures, UsageRecord } from './record.js';
import { SseUsageTap } from './sse-usage.js';
import type { UsageStore } from './store.js';

/**
 * Usage accounting, decided once at start: whether responses are read for their usage at all
 * (a store is set, or some key has a token limit or budget), where records go, what they cost,
 * and the limiter. Per request a RequestUsage follows the response and, when it ends, writes the
 * record and settles the limits.
 */
export interface UsageService {
  /** Whether responses are read for their usage. */
  readonly active: boolean;
  readonly store: UsageStore | undefined;
  readonly cost: CostFunction;
  readonly limiter: Limiter | undefined;
  readonly log: Logger;
}

/** A non-streamed body larger than this is not kept for its usage (it is relayed all the same). */
const JSON_LIMIT = 4 * 1024 * 1024;

/** What the exchange knows when the response is over. */
export interface UsageFacts {
  readonly requestId: string;
  readonly endpoint: string;
  readonly grant: ClientGrant | undefined;
  readonly asked: string | undefined;
  readonly sent: string | undefined;
  readonly backend: string | undefined;
  readonly status: number;
  readonly stream: boolean;
  readonly clientGone: boolean;
  /** performance.now() values. */
  readonly start: number;
  readonly headWritten: number;
  readonly end: number;
}

export class RequestUsage {
  /** The relay itself asked the backend for stream usage on the try that answered: the client must not see it. */
  injected = false;
  admission: Admitted | undefined;
  #tap: SseUsageTap | undefined;
  #figures: UsageFigures | undefined;
  readonly #service: UsageService;

  constructor(service: UsageService) {
    this.#service = service;
  }

  /** The stream tap for an event-stream response (it strips what the relay alone asked for). */
  tapStream(): SseUsageTap {
    this.#tap = new SseUsageTap({ stripInjectedUsage: this.injected });
    return this.#tap;
  }

  /** Reads a non-streamed JSON body's usage as it passes, without holding it back: call with each chunk, then null. */
  watchJson(): (chunk: Buffer | null) => void {
    // Most bodies arrive in one chunk: an array is made only for a second one.
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    let kept = true;
    return (chunk) => {
      if (!kept) return;
      if (chunk === null) {
        kept = false;
        if (first !== undefined) this.#figures = usageFromJson(more === undefined ? first : Buffer.concat([first, ...more], size));
        first = more = undefined;
        return;
      }
      size += chunk.length;
      if (size > JSON_LIMIT) {
        kept = false;
        first = more = undefined;
      } else if (first === undefined) first = chunk;
      else (more ??= []).push(chunk);
    };
  }

  /** A body the relay read whole anyway (echo_alias rewrites it). */
  readJson(body: Buffer): void {
    this.#figures = usageFromJson(body);
  }

  /** The response is over: write the record, settle the reservation with what was really used. */
  finish(facts: UsageFacts): void {
    const service = this.#service;
    const figures = this.#tap?.usage ?? this.#figures;
    const model = facts.sent ?? facts.asked;
    const cost = figures === undefined || model === undefined ? null : service.cost(model, figures);
    if (this.admission !== undefined) {
      // An error answer costs nothing; a request whose usage was never seen (cut off, aborted) keeps its estimate.
      if (figures !== undefined) this.admission.settle({ tokens: figures.total_tokens, cost });
      else if (facts.status >= 400 && facts.status !== 499) this.admission.settle({ tokens: 0, cost: 0 });
      this.admission.release();
    }
    if (service.store === undefined) return;
    const firstToken = this.#tap?.firstTokenAt ?? (facts.headWritten > 0 ? facts.headWritten : undefined);
    const record: UsageRecord = {
      time: isoTimeOf(Date.now() - (facts.end - facts.start)),
      request_id: facts.requestId,
      key_name: facts.grant?.name ?? null,
      endpoint: facts.endpoint,
      model_asked: facts.asked ?? null,
      model_sent: facts.sent ?? null,
      backend: facts.backend ?? null,
      status: facts.status,
      prompt_tokens: figures?.prompt_tokens ?? 0,
      completion_tokens: figures?.completion_tokens ?? 0,
      cached_tokens: figures?.cached_tokens ?? 0,
      reasoning_tokens: figures?.reasoning_tokens ?? 0,
      total_tokens: figures?.total_tokens ?? 0,
      ttft_ms: firstToken === undefined ? null : round(firstToken - facts.start),
      duration_ms: round(facts.end - facts.start),
      cost,
      stream: facts.stream,
      aborted: facts.clientGone || (facts.stream && this.#tap !== undefined && !this.#tap.sawDone),
    };
    service.store.add(record);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * A store that takes records at once while it opens (openUsageStore is async: it loads the driver);
 * records added before it is open are handed over when it is.
 */
export function deferStore(opening: Promise<UsageStore>): UsageStore {
  let store: UsageStore | undefined;
  const early: UsageRecord[] = [];
  void opening.then((s) => {
    store = s;
    for (const record of early) s.add(record);
    early.length = 0;
  });
  return {
    add(record) {
      if (store !== undefined) store.add(record);
      else early.push(record);
    },
    flush: async () => (await opening).flush(),
    close: async () => (await opening).close(),
    query: async (q) => (await opening).query(q),
    get pending() {
      return store?.pending ?? early.length;
    },
  };
}
