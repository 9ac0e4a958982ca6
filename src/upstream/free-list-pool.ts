import type { Client, Dispatcher } from 'undici';
import ClientImpl from 'undici/lib/dispatcher/client.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import { kAddClient, kGetDispatcher, kNeedDrain } from 'undici/lib/dispatcher/pool-base.js';

type PoolOptions = ConstructorParameters<typeof Pool>[1];
type ClientOptions = ConstructorParameters<typeof Client>[1];

/** Pool's methods for subclasses (pool-base.js), which undici's typings leave out. */
interface PoolInternals {
  [kGetDispatcher](): PooledClient | undefined;
  [kAddClient](client: Dispatcher): void;
}

const poolMethods = Pool.prototype as unknown as PoolInternals;

/** What the pool reads and writes on its clients. */
interface PooledClient extends Client {
  [kNeedDrain]?: boolean;
}

/**
 * undici's Pool with its choice of connection made O(1) (issue 3: thousands of concurrent streams).
 * Pool finds a connection for each request by walking all of its clients until one is not busy,
 * twice per request when the one it took is now busy: with N streams open, every new request
 * walks N busy clients. Opening 5,000 streams cost 25 million such checks, a third of a second of
 * CPU, and the last streams waited the longest.
 *
 * Here the clients that may take a request are kept on a stack: a client is pushed when it is
 * made and when it drains (its response is over), and a busy or broken one is dropped from the
 * top when met, so each push is popped at most once. The most recently freed connection is used
 * first, while its socket is surely still open. Everything else (dispatch, queueing, drain,
 * close, destroy, the clients' own keep-alive) stays undici's. The relay sets no `connections`
 * limit and no `clientTtl`, the two options this choice would have to honour.
 */
export class FreeListPool extends Pool {
  readonly #free: PooledClient[] = [];
  readonly #onStack = new WeakSet<PooledClient>();
  /** Clients the pool dropped after a connection error: never handed out again (as in Pool). */
  readonly #dropped = new WeakSet<PooledClient>();
  /** Makes a client as Pool's factory does, with the options Pool built; set by the first one. */
  #make: (() => PooledClient) | undefined;

  constructor(origin: string, options: Omit<NonNullable<PoolOptions>, 'factory' | 'connections' | 'clientTtl'>) {
    let self: FreeListPool | undefined;
    super(origin, {
      ...options,
      factory: (clientOrigin: string | URL, clientOptions: ClientOptions): Dispatcher => {
        const make = (): PooledClient => {
          const client: PooledClient = new ClientImpl(clientOrigin, clientOptions);
          if (self !== undefined) self.#track(client);
          return client;
        };
        if (self !== undefined) self.#make = make;
        return make();
      },
    });
    self = this;
  }

  #track(client: PooledClient): void {
    client.on('drain', () => this.#push(client));
    client.on('connectionError', () => this.#dropped.add(client));
    this.#push(client);
  }

  #push(client: PooledClient): void {
    if (this.#onStack.has(client) || this.#dropped.has(client)) return;
    this.#onStack.add(client);
    this.#free.push(client);
  }

  [kGetDispatcher](): PooledClient | undefined {
    const free = this.#free;
    while (free.length > 0) {
      const client = free[free.length - 1] as PooledClient;
      if (client[kNeedDrain] !== true && !client.closed && !client.destroyed && !this.#dropped.has(client)) return client;
      free.pop();
      this.#onStack.delete(client);
    }
    // No client yet: Pool makes the first one, through the factory, which keeps its options.
    if (this.#make === undefined) return poolMethods[kGetDispatcher].call(this);
    const client = this.#make();
    poolMethods[kAddClient].call(this, client);
    return client;
  }
}
