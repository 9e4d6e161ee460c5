// Sliding-window counts of failed logins per key (user name or client address), bounded in memory.
// Imports nothing of ours; must not import src/http, src/dav, src/cli or protocol plugins.
import { createHash } from 'node:crypto';

// Keys come from the client (a user name can be kilobytes long), so long ones are stored as a
// digest: otherwise the key cap would bound the number of entries but not their size.
const MAX_RAW_KEY_LENGTH = 64;
function compactKey(key: string): string {
  return key.length <= MAX_RAW_KEY_LENGTH ? key : `#${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}

export class FailureCounter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  // Per key, the times of its most recent failures, oldest first, never more than #limit of them:
  // older ones cannot change whether the key is over the limit or when it frees up. Map order is
  // least recently failed first, which is what eviction needs.
  readonly #failures = new Map<string, number[]>();

  constructor(limit: number, windowMs: number, maxKeys: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#failures.size;
  }

  /** True when the key has #limit failures inside the window ending now. */
  isOver(key: string, now: number): boolean {
    return this.#live(compactKey(key), now).length >= this.#limit;
  }

  /** Milliseconds until the key drops under the limit again if it stops failing; 0 when not over. */
  retryAfterMs(key: string, now: number): number {
    const times = this.#live(compactKey(key), now);
    if (times.length < this.#limit) return 0;
    return (times[0] ?? now) + this.#windowMs - now;
  }

  record(rawKey: string, now: number): void {
    const key = compactKey(rawKey);
    const times = this.#live(key, now);
    times.push(now);
    if (times.length > this.#limit) times.shift();
    // Re-inserting moves the key to the young end of the eviction order.
    this.#failures.delete(key);
    this.#failures.set(key, times);
    this.#evict(now);
  }

  #live(key: string, now: number): number[] {
    const times = this.#failures.get(key);
    if (times === undefined) return [];
    const horizon = now - this.#windowMs;
    while (times.length > 0 && (times[0] ?? now) <= horizon) times.shift();
    if (times.length === 0) this.#failures.delete(key);
    return times;
  }

  // Keys whose failures have all expired go first; past the cap the least recently failed key is
  // dropped, so an attacker rotating addresses or names can only ever occupy #maxKeys entries. The
  // price is that flooding more than #maxKeys fresh keys within a window forgets the oldest ones,
  // but every such flood request costs an argon2 verification behind the bounded queue.
  #evict(now: number): void {
    const horizon = now - this.#windowMs;
    for (const [key, times] of this.#failures) {
      const newest = times[times.length - 1];
      if (newest !== undefined && newest > horizon && this.#failures.size <= this.#maxKeys) break;
      this.#failures.delete(key);
    }
  }
}
