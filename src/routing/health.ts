/**
 * Passive health, per backend and per key. A backend that fails `failureThreshold` times in a row
 * is opened (taken out) for `cooldown`; then one request is let through as a probe (half-open):
 * its success closes the circuit, its failure opens it again. A key is taken out on its own: for
 * the wait a 429 asks (or `cooldown`), or for `badKeyCooldown` after a 401/403.
 * Time is injected, so every transition is testable without waiting.
 */
export interface HealthOptions {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  readonly badKeyCooldownMs: number;
  readonly now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

interface BackendState {
  failures: number;
  openUntil: number;
  probing: boolean;
  /** Per key: out until this time (0: in use). */
  keyUntil: number[];
}

export class Health {
  readonly #states: BackendState[];
  readonly #options: HealthOptions;
  readonly #now: () => number;

  constructor(keyCounts: readonly number[], options: HealthOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#states = keyCounts.map((n) => ({ failures: 0, openUntil: 0, probing: false, keyUntil: new Array<number>(Math.max(1, n)).fill(0) }));
  }

  now(): number {
    return this.#now();
  }

  circuit(backend: number): CircuitState {
    const s = this.#state(backend);
    if (s.openUntil === 0) return 'closed';
    return this.#now() < s.openUntil ? 'open' : 'half-open';
  }

  /** Whether a request may go to the backend now (a half-open backend takes one probe at a time). */
  usable(backend: number): boolean {
    const state = this.circuit(backend);
    return state === 'closed' || (state === 'half-open' && !this.#state(backend).probing);
  }

  /** Until when a backend or key is out (0 when usable now). */
  outUntil(backend: number, key: number): number {
    const s = this.#state(backend);
    const keyUntil = s.keyUntil[key] ?? 0;
    const now = this.#now();
    const circuitUntil = s.openUntil > now || (s.openUntil !== 0 && s.probing) ? Math.max(s.openUntil, now) : 0;
    const k = keyUntil > now ? keyUntil : 0;
    return Math.max(circuitUntil, k);
  }

  keyUsable(backend: number, key: number): boolean {
    return (this.#state(backend).keyUntil[key] ?? 0) <= this.#now();
  }

  /** A request is going out: a half-open backend's probe is now in flight. */
  begin(backend: number): void {
    const s = this.#state(backend);
    if (s.openUntil !== 0 && this.#now() >= s.openUntil) s.probing = true;
  }

  /** The backend answered with a response that was not a failure. */
  succeeded(backend: number): void {
    const s = this.#state(backend);
    s.failures = 0;
    s.openUntil = 0;
    s.probing = false;
  }

  /** Connect error, timeout or 5xx. Returns true when this failure opened the circuit. */
  failed(backend: number): boolean {
    const s = this.#state(backend);
    s.failures++;
    const wasProbe = s.probing;
    s.probing = false;
    if (wasProbe || s.failures >= this.#options.failureThreshold) {
      const opening = s.openUntil === 0 || wasProbe;
      s.openUntil = this.#now() + this.#options.cooldownMs;
      return opening;
    }
    return false;
  }

  /** The request ended without a verdict (the client left): a probe slot is given back. */
  abandoned(backend: number): void {
    this.#state(backend).probing = false;
  }

  /** 429: the key rests for the wait the backend asked, else for the cooldown. */
  throttled(backend: number, key: number, waitMs: number | undefined): void {
    this.#setKey(backend, key, this.#now() + (waitMs ?? this.#options.cooldownMs));
  }

  /** 401/403: the key is taken out for the bad-key cooldown. */
  rejected(backend: number, key: number): void {
    this.#setKey(backend, key, this.#now() + this.#options.badKeyCooldownMs);
  }

  #setKey(backend: number, key: number, until: number): void {
    const keys = this.#state(backend).keyUntil;
    if (key >= 0 && key < keys.length) keys[key] = Math.max(keys[key] ?? 0, until);
  }

  #state(backend: number): BackendState {
    const s = this.#states[backend];
    if (s === undefined) throw new RangeError(`no backend ${backend}`);
    return s;
  }
}
