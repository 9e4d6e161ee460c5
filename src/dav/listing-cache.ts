// Repeated large listings (PROPFIND Depth 1, initial sync-collection) of an unchanged collection are
// served from the bytes of the previous answer instead of reading and writing every member again.
// Exact by construction: only properties computed from the member records themselves are cached
// (never dead properties, which PROPPATCH changes without a change-log entry), and an entry is
// used only while the collection's change position is the one the listing's own snapshot read;
// every write to a member moves that position in the same transaction. Bounded in bytes, least
// recently used first out. Imports DAV types and the XML names only.
import type { CollectionRecord } from '../store/types.ts';
import type { PropRequest } from './properties/evaluate.ts';
import { dav, type ClarkName } from './xml/names.ts';

/**
 * Live properties whose value on an object is a function of its ObjectRecord (core.ts) and which
 * no client can set: a listing of only these changes exactly when a member is written or removed.
 */
const RECORD_PROPERTIES: ReadonlySet<ClarkName> = new Set([
  dav('getetag'), dav('getcontenttype'), dav('getcontentlength'), dav('getlastmodified'), dav('creationdate'), dav('resourcetype'),
]);

/** A cache key for listing `collection` with `request`, or null when such a listing is not cacheable. */
export function listingKey(kind: string, epoch: string, collection: CollectionRecord, request: PropRequest, minimal: boolean): string | null {
  if (request.kind !== 'prop' || request.names.length === 0 || !request.names.every((name) => RECORD_PROPERTIES.has(name))) return null;
  // Calendars and address books hold objects only; homes list collections, whose properties are not records.
  if (collection.kind !== 'calendar' && collection.kind !== 'addressbook') return null;
  // Collection ids can be reused after a deletion (SQLite), so the path and creation time are part of the key.
  return [kind, epoch, collection.id, collection.path, collection.createdAt, minimal ? 'minimal' : 'full', ...request.names].join('\u0000');
}

interface Entry {
  readonly syncSeq: number;
  /** The namespace prefix the markup was written with. */
  readonly prefix: string;
  readonly parts: readonly Buffer[];
  readonly bytes: number;
}

export class ListingCache {
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  // Map order is recency order.
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(maxBytes: number, maxEntryBytes: number) {
    this.#maxBytes = maxBytes;
    this.#maxEntryBytes = maxEntryBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The member markup listed at `syncSeq` under `key`, written with `prefix`; a stale entry is dropped. */
  get(key: string, syncSeq: number, prefix: string): readonly Buffer[] | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.syncSeq !== syncSeq || entry.prefix !== prefix) {
      this.#bytes -= entry.bytes;
      return undefined;
    }
    this.#entries.set(key, entry);
    return entry.parts;
  }

  set(key: string, syncSeq: number, prefix: string, parts: readonly Buffer[]): void {
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= previous.bytes;
    }
    const bytes = parts.reduce((sum, part) => sum + part.byteLength, 0);
    if (bytes > this.#maxEntryBytes) return;
    this.#entries.set(key, { syncSeq, prefix, parts, bytes });
    this.#bytes += bytes;
    for (const [oldKey, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldKey);
      this.#bytes -= entry.bytes;
    }
  }
}

/**
 * One per process. A 10,000-member listing of getetag and getcontenttype is ~2.9 MB; listings larger
 * than 8 MB (about 30,000 members) are rebuilt each time rather than held.
 */
export const LISTINGS = new ListingCache(24 * 1024 * 1024, 8 * 1024 * 1024);
