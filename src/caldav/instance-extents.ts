// Per process: each recurring calendar object's instance extents (src/ical/bounds.ts instanceExtents),
// keyed by ETag. ETags are content hashes (src/store/etag.ts), so an entry can never describe other
// bytes, whichever process wrote them, and no write needs to reach this cache. Imports only src/ical.
import type ICAL from 'ical.js';
import { instanceExtents } from '../ical/bounds.ts';
import { hasRecurrence, mainComponentType } from '../ical/occurrence-set.ts';

/**
 * Objects remembered per process. An entry is at most 64 instances × 16 bytes plus its key, so this
 * bounds the cache to about 10 MB in the worst case (about 4 MB for rules of a dozen instances).
 */
const MAX_ENTRIES = 10_000;

export class InstanceExtentsCache {
  readonly #entries = new Map<string, Float64Array | null>();
  readonly #maxEntries: number;

  constructor(maxEntries = MAX_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  /** The extents known for these bytes: undefined when never seen, null when they cannot narrow. */
  get(etag: string): Float64Array | null | undefined {
    return this.#entries.get(etag);
  }

  /**
   * Computes and keeps the extents of a parsed recurring object (null too: it saves computing them
   * again). Objects without recurrence are left out: their index bounds are already their one instance.
   */
  remember(etag: string, vcalendar: ICAL.Component): void {
    if (this.#entries.has(etag) || !isRecurring(vcalendar)) return;
    if (this.#entries.size >= this.#maxEntries) {
      // The oldest entry goes first: Map iterates in insertion order.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(etag, instanceExtents(vcalendar));
  }
}

function isRecurring(vcalendar: ICAL.Component): boolean {
  const type = mainComponentType(vcalendar);
  return type !== null && vcalendar.getAllSubcomponents(type).some((c) => hasRecurrence(c) || c.hasProperty('recurrence-id'));
}
