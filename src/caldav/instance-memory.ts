// Per process: what time-range queries learnt of each calendar object's instances (src/ical/bounds.ts
// instanceSummary), keyed by ETag. ETags are content hashes (src/store/etag.ts), so an entry can never
// describe other bytes, whichever process wrote them, and no write needs to reach this memory.
// Imports only src/ical.
import type ICAL from 'ical.js';
import { extentsMeet, instanceSummary, type InstanceSummary } from '../ical/bounds.ts';
import { rangeSatisfies } from '../ical/occurrence-time.ts';
import type { TimeRange } from '../ical/types.ts';

/**
 * Instances remembered per process, over all objects. An instance costs about 16 bytes of extents and,
 * for an object without floating times, a small test object (~60 bytes), so this bounds the memory
 * to about 15 MB; a calendar of 10,000 objects of a few instances each fits.
 */
const MAX_INSTANCES = 200_000;

/** What the memory says of an object and a range. */
export type InstanceVerdict = 'no' | 'yes' | 'unknown';

export class InstanceMemory {
  readonly #entries = new Map<string, InstanceSummary | null>();
  readonly #maxInstances: number;
  #instances = 0;

  constructor(maxInstances = MAX_INSTANCES) {
    this.#maxInstances = maxInstances;
  }

  /**
   * Whether the object with these bytes has an instance that meets the range: 'no' and 'yes' are
   * exact (an RFC 4791 §9.9 time-range on its main component would say the same after parsing it);
   * 'unknown' when never seen, or when its instants depend on the query's zone and the widened
   * extents do meet the range.
   */
  verdict(etag: string, range: TimeRange): InstanceVerdict {
    const summary = this.#entries.get(etag);
    if (summary == null) return 'unknown';
    if (!extentsMeet(summary.extents, range)) return 'no';
    if (summary.tests === null) return 'unknown';
    return summary.tests.some((test) => rangeSatisfies(test, range)) ? 'yes' : 'no';
  }

  /** Summarises and keeps a parsed object (a null summary too: it saves summarising again). */
  remember(etag: string, vcalendar: ICAL.Component): void {
    if (this.#entries.has(etag)) return;
    const summary = instanceSummary(vcalendar);
    const size = summary === null ? 1 : summary.extents.length / 2;
    this.#instances += size;
    this.#entries.set(etag, summary);
    // The oldest entries go first: a Map iterates in insertion order.
    for (const [oldest, entry] of this.#entries) {
      if (this.#instances <= this.#maxInstances) break;
      this.#entries.delete(oldest);
      this.#instances -= entry === null ? 1 : entry.extents.length / 2;
    }
  }
}
