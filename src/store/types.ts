// Records the Store hands out. Plain data, shared by every backend; imports nothing of ours.

/** What a collection is for. Homes hold collections; the others hold objects (and, for files, sub-folders). */
export type CollectionKind =
  | 'calendar-home'
  | 'calendar'
  | 'addressbook-home'
  | 'addressbook'
  | 'files-home'
  | 'files';

export interface UserRecord {
  readonly id: number;
  readonly name: string;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly createdAt: number;
}

export interface AppPasswordRecord {
  readonly id: number;
  readonly label: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

export interface CollectionRecord {
  readonly id: number;
  readonly ownerId: number;
  readonly parentId: number | null;
  /** Decoded absolute path ending in '/'. */
  readonly path: string;
  readonly kind: CollectionKind;
  /** Position of the latest entry in this collection's change log; 0 when nothing happened yet. */
  readonly syncSeq: number;
  readonly objectCount: number;
  readonly childCount: number;
  /** Sum of the sizes of the objects directly inside. */
  readonly bytesUsed: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ObjectRecord {
  readonly id: number;
  readonly collectionId: number;
  /** Last path segment, decoded. */
  readonly name: string;
  readonly contentType: string;
  /** Strong entity tag including the quotes, e.g. `"3q2-…"`. */
  readonly etag: string;
  readonly size: number;
  readonly uid: string | null;
  readonly component: string | null;
  readonly createdAt: number;
  readonly modifiedAt: number;
}

export interface ObjectWithBody extends ObjectRecord {
  readonly body: Uint8Array;
}

/** Metadata extracted from an object at write time by the protocol layer. */
export interface ObjectMetadata {
  readonly uid?: string | null;
  readonly component?: string | null;
  readonly firstStart?: number | null;
  readonly lastEnd?: number | null;
  /** Searchable values as JSON (contacts), so queries need not parse every object. */
  readonly searchIndex?: string | null;
  /** Calendar objects: whether any instance can add busy time to free-busy (false: transparent, cancelled, tasks). */
  readonly mayBeBusy?: boolean | null;
}

/**
 * Narrows a search-index listing (Store.listSearchIndex) by plain substrings of the stored index text,
 * compared exactly (no case folding, no wildcards): a row is listed when its text contains, for every
 * clause, at least one of that clause's strings — or when it does not contain `marker` at all (rows
 * written without the part of the index the strings refer to must stay candidates). Rows without a
 * search index are left out. Only a narrowing: the caller judges every row it gets.
 */
export interface SearchNarrowing {
  readonly marker: string;
  readonly clauses: readonly (readonly string[])[];
}

/** A dead property: its Clark name and its value serialised as an XML element. */
export interface StoredProperty {
  readonly name: string;
  readonly xml: string;
}

export type PropertyTarget =
  | { readonly kind: 'collection'; readonly collectionId: number }
  | { readonly kind: 'object'; readonly objectId: number };

export type PropertyOperation =
  | { readonly op: 'set'; readonly name: string; readonly xml: string }
  | { readonly op: 'remove'; readonly name: string };

export interface CollectionMembers {
  readonly collections: readonly CollectionRecord[];
  readonly objects: readonly ObjectRecord[];
  /** The collection's change position in the same snapshot (0 when the collection does not exist). */
  readonly syncSeq: number;
}

export interface Change {
  readonly seq: number;
  readonly member: string;
  readonly deleted: boolean;
}

/**
 * One page of a collection's changes after a position: each changed member once (its latest change),
 * in change order, with the current records of the members that still exist — read in one snapshot.
 */
export interface SyncPage {
  /** The collection's position when the page was read. */
  readonly currentSeq: number;
  /** Positions below this were pruned: a token older than it cannot be served. */
  readonly horizon: number;
  readonly changes: readonly Change[];
  /** More changes follow the last one in `changes`. */
  readonly truncated: boolean;
  readonly objects: ReadonlyMap<string, ObjectRecord>;
  readonly collections: ReadonlyMap<string, CollectionRecord>;
}
