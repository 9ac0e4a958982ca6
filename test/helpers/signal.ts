/** A promise the test settles by hand: the mock waits on it, the client releases it (no sleeps). */
export interface Signal<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  readonly settled: boolean;
}

export function createSignal<T = void>(): Signal<T> {
  let resolveFn: (value: T) => void = () => undefined;
  let settled = false;
  const promise = new Promise<T>((resolve) => {
    resolveFn = resolve;
  });
  return {
    promise,
    resolve(value: T) {
      settled = true;
      resolveFn(value);
    },
    get settled() {
      return settled;
    },
  };
}

/** Rejects with a clear message when `promise` has not settled within `ms` (so a wait never hangs a test). */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
