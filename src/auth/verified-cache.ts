// Remembers recent successful verifications so a client sending Basic on every request costs one
// argon2 run per TTL, not per request. Holds no passwords. Imports nothing of ours; must not import
// src/http, src/dav, src/cli or protocol plugins.
import { hash, randomBytes } from 'node:crypto';

export interface VerifiedEntry {
  readonly userId: number;
  readonly appPasswordId: number | null;
  readonly credentialsVersion: number;
  readonly expiresAt: number;
  /** Normalised user names (as presented and as stored) that invalidateUser matches on. */
  readonly nameKeys: readonly string[];
}

/** The form of a user name that cache invalidation and per-user throttling compare. */
export function userNameKey(userName: string): string {
  return userName.normalize('NFC').toLowerCase();
}

export class VerifiedCache {
  readonly #maxEntries: number;
  // Per process, never stored: keys cannot be precomputed or compared across processes, and a
  // memory dump yields HMACs that are useless without this secret.
  readonly #secret = randomBytes(32);
  // Insertion order is age order, so the first entries are the ones to evict.
  readonly #entries = new Map<string, VerifiedEntry>();

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The cache key for a credential: SHA-256 over the process secret, then the length-prefixed user
   * name (so no two pairs share input) and the password. Computed on every request; a one-shot hash
   * costs a fraction of an HMAC object. The keys never leave the process, so the secret-prefix
   * construction's length extension gives nobody anything.
   */
  keyFor(userName: string, password: string): string {
    const user = Buffer.from(userName, 'utf8');
    return hash('sha256', Buffer.concat([this.#secret, Buffer.from(`${user.length}:`), user, Buffer.from(password, 'utf8')]), 'base64url');
  }

  get(key: string, now: number): VerifiedEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, entry: VerifiedEntry, now: number): void {
    if (this.#maxEntries <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    for (const [oldKey, old] of this.#entries) {
      if (old.expiresAt > now && this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldKey);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  deleteUser(nameKey: string): void {
    for (const [key, entry] of this.#entries) {
      if (entry.nameKeys.includes(nameKey)) this.#entries.delete(key);
    }
  }
}
