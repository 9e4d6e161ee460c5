// Per process: what time-range queries learnt of each calendar object's instances (src/ical/bounds.ts
// instanceSummary), keyed by ETag. ETags are content hashes (src/store/etag.ts), so an entry can never
// describe other bytes, whichever process wrote them, and no write needs to reach this memory.
// Imports only src/ical.
import { createHash } from 'node:crypto';
import type ICAL from 'ical.js';
import { extentsMeet, instanceSummary, type InstanceSummary } from '../ical/bounds.ts';
import { rangeSatisfies } from '../ical/occurrence-time.ts';
import type { TimeRange } from '../ical/types.ts';

/**
 * Instances remembered per process, over all objects (and zones). An instance costs about 16 bytes of
 * extents and a small test object (~60 bytes), so this bounds the memory to about 15 MB; a calendar of
 * 10,000 objects of a few instances each fits.
 */
const MAX_INSTANCES = 200_000;

/** What the memory says of an object and a range. */
export type InstanceVerdict = 'no' | 'yes' | 'unknown';

/**
 * The zone a query reads floating times in, as the memory keys it: objects with floating times are
 * remembered per zone. A zone's key is its TZID and a digest of its definition (a calendar may carry
 * its own VTIMEZONE under a common name).
 */
export interface FloatingZone {
  readonly key: string;
  readonly zone: ICAL.Timezone | undefined;
}

const ZONE_KEYS = new WeakMap<ICAL.Timezone, string>();

export function memoryZone(zone: ICAL.Timezone | undefined): FloatingZone {
  if (zone === undefined) return { key: 'UTC', zone };
  let key = ZONE_KEYS.get(zone);
  if (key === undefined) {
    const definition = zone.component === null || zone.component === undefined ? '' : zone.component.toString();
    key = `${zone.tzid} ${createHash('sha256').update(definition).digest('base64url')}`;
    ZONE_KEYS.set(zone, key);
  }
  return { key, zone };
}

export class InstanceMemory {
  readonly #entries = new Map<string, InstanceSummary | null>();
  readonly #maxInstances: number;
  #instances = 0;

  constructor(maxInstances = MAX_INSTANCES) {
    this.#maxInstances = maxInstances;
  }

  /**
   * Whether the object with these bytes has an instance that meets the range, floating times read in
   * `zone`: 'no' and 'yes' are exact (an RFC 4791 §9.9 time-range on its main component would say the
   * same after parsing it); 'unknown' when not remembered.
   */
  verdict(etag: string, range: TimeRange, zone: FloatingZone): InstanceVerdict {
    const summary = this.#entries.get(etag) ?? this.#entries.get(`${etag} ${zone.key}`);
    if (summary == null) return 'unknown';
    if (!extentsMeet(summary.extents, range)) return 'no';
    return summary.tests.some((test) => rangeSatisfies(test, range)) ? 'yes' : 'no';
  }

  /**
   * Summarises and keeps a parsed object: once for all zones when it has no floating times, else for
   * this zone. A null summary is kept too, for all zones: it saves summarising again.
   */
  remember(etag: string, vcalendar: ICAL.Component, zone: FloatingZone): void {
    if (this.#entries.has(etag) || this.#entries.has(`${etag} ${zone.key}`)) return;
    const summary = instanceSummary(vcalendar, undefined, zone.zone);
    const size = summary === null ? 1 : summary.tests.length;
    this.#instances += size;
    this.#entries.set(summary?.floating === true ? `${etag} ${zone.key}` : etag, summary);
    // The oldest entries go first: a Map iterates in insertion order.
    for (const [oldest, entry] of this.#entries) {
      if (this.#instances <= this.#maxInstances) break;
      this.#entries.delete(oldest);
      this.#instances -= entry === null ? 1 : entry.tests.length;
    }
  }
}
