// Bounds how many argon2 verifications run at once and how many may wait, so a flood of cache misses
// turns into fast "busy" answers instead of unbounded memory and latency (each run holds ~19 MiB).
// Imports nothing of ours; must not import src/http, src/dav, src/cli or protocol plugins.

export class VerificationLimiter {
  readonly #maxActive: number;
  readonly #maxQueued: number;
  #active = 0;
  // FIFO of tasks waiting for a slot; shift() is linear but the queue is capped at a few dozen.
  readonly #waiting: (() => void)[] = [];

  constructor(maxActive: number, maxQueued: number) {
    this.#maxActive = maxActive;
    this.#maxQueued = maxQueued;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Runs the task in a slot, waiting for one if needed. Resolves to null, without running the task,
   * when no slot is free and the queue already holds `queueLimit` (at most the configured maximum).
   */
  async run<T>(task: () => Promise<T>, queueLimit: number = this.#maxQueued): Promise<{ readonly value: T } | null> {
    if (this.#active < this.#maxActive) {
      this.#active++;
    } else {
      if (this.#waiting.length >= Math.min(queueLimit, this.#maxQueued)) return null;
      // The releasing task hands its slot straight over, so #active already counts this one.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return { value: await task() };
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#active--;
      else next();
    }
  }
}
