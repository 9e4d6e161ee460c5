// Keeps large answers from monopolising the process: a listing of tens of thousands of members is
// evaluated in slices with the event loop served in between, and only a few such answers are built
// at once, so their working memory stays bounded however many clients ask together. Nothing here
// changes what an answer contains: each is still read in one store snapshot and built whole before
// its status line is sent. Imports nothing of ours.

/** Members evaluated between two turns of the event loop. */
export const SLICE = 512;

/** Lets timers, I/O and other requests run before the caller continues. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A counting semaphore; waiters are served in arrival order. */
export class Gate {
  readonly #capacity: number;
  readonly #waiting: (() => void)[] = [];
  #held = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`gate capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  get held(): number {
    return this.#held;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `fn` once a place is free, and frees it when `fn` settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#held >= this.#capacity) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#held++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      // The place passes straight to the next waiter, so a newcomer cannot overtake it.
      if (next !== undefined) next();
      else this.#held--;
    }
  }
}

/**
 * Listings (PROPFIND Depth 1, sync-collection) larger than SLICE members are built at most this many
 * at a time per process. Two keep both cores of a small machine busy while a third waits without
 * holding any memory.
 */
export const LARGE_ANSWERS = new Gate(2);
