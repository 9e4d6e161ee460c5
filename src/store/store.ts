// The Store contract every backend implements (DESIGN.md §4). The DAV layer and the CLI talk only to
// this interface. Imports only store types and errors.
import type {
  AppPasswordRecord,
  Change,
  CollectionKind,
  CollectionMembers,
  CollectionRecord,
  ObjectMetadata,
  ObjectRecord,
  ObjectWithBody,
  PropertyOperation,
  PropertyTarget,
  SearchNarrowing,
  StoredProperty,
  SyncPage,
  UserRecord,
} from './types.ts';

/** Structurally the same as auth's CredentialRecord, so the store can serve the authenticator. */
export interface StoredCredentials {
  readonly userId: number;
  readonly userName: string;
  readonly passwordHash: string | null;
  readonly appPasswordHashes: readonly { readonly id: number; readonly hash: string }[];
  readonly credentialsVersion: number;
}

/** A user's credentials and record read together: what an authenticated request needs, in one read. */
export interface StoredAccount extends StoredCredentials {
  readonly user: UserRecord;
}

/**
 * What a write expects to find, checked inside its transaction (compare-and-swap):
 * `undefined` = anything, `{ absent: true }` = nothing there, `{ etag }` = exactly this version.
 */
export type WriteExpectation = undefined | { readonly absent: true } | { readonly etag: string };

export interface NewCollection {
  readonly ownerId: number;
  readonly parentId: number;
  readonly name: string;
  readonly kind: CollectionKind;
  readonly properties?: readonly PropertyOperation[];
}

export interface PutObjectInput {
  readonly collectionId: number;
  readonly name: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly metadata?: ObjectMetadata;
  readonly expect?: WriteExpectation;
}

export interface HomeLayout {
  readonly path: string;
  readonly kind: CollectionKind;
  /** Collections created inside the home the first time it is made, with their properties. */
  readonly children: readonly { readonly name: string; readonly kind: CollectionKind; readonly properties: readonly PropertyOperation[] }[];
}

export interface ObjectQuery {
  readonly componentType?: string;
  /**
   * Only objects that may add busy time (free-busy-query). A prefilter a store may ignore: the
   * caller still evaluates each object; a store uses it once it knows every object's answer.
   */
  readonly mayBeBusy?: boolean;
  readonly overlapping?: { readonly start: number | null; readonly end: number | null };
  /**
   * The caller's own prefilter on an object's record (e.g. what it remembers of the instances behind
   * an ETag): objects it answers false for may be left out, and the caller tests what it gets anyway.
   * A store that can ask before reading the body does, so such objects cost no body read.
   */
  readonly mayMatch?: (object: ObjectRecord) => boolean;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly reason: string;
  readonly schemaVersion: number;
}

/** Where a COPY or MOVE goes; `replace` allows overwriting what is there, inside the same transaction. */
export interface Destination {
  readonly parentId: number;
  readonly name: string;
  readonly replace: boolean;
}

/**
 * A collection's search indexes as they changed after a position (Store.searchIndexSince), for a
 * process that keeps them in memory and must bring them up to date without reading them all again.
 */
export interface SearchIndexDelta {
  /** The collection's change position in the snapshot the rows were read in. */
  readonly currentSeq: number;
  /** The collection's creation time, so a caller can tell another collection that reused its id. */
  readonly createdAt: number;
  /** True: `members` is every member (a full read). False: only those changed after the position. */
  readonly complete: boolean;
  /** Members present now, with their stored search index (null: stored without one). */
  readonly members: readonly { readonly name: string; readonly searchIndex: string | null }[];
  /** Members changed after the position that are gone now (always empty when `complete`). */
  readonly removed: readonly string[];
}

export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  close(): Promise<void>;
  readiness(): Promise<ReadinessReport>;
  /** Changes when the store is restored from a backup, so old sync tokens become invalid. */
  epoch(): Promise<string>;

  // Accounts.
  createUser(input: { readonly name: string; readonly email: string | null; readonly displayName: string | null; readonly passwordHash: string | null }): Promise<UserRecord>;
  getUser(name: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  setPasswordHash(name: string, passwordHash: string): Promise<boolean>;
  deleteUser(name: string): Promise<boolean>;
  addAppPassword(userName: string, label: string, hash: string): Promise<AppPasswordRecord>;
  listAppPasswords(userName: string): Promise<AppPasswordRecord[]>;
  revokeAppPassword(userName: string, label: string): Promise<boolean>;
  lookupCredentials(userName: string): Promise<StoredCredentials | null>;
  /** lookupCredentials and getUser in one read (every authenticated request needs both). */
  lookupAccount(userName: string): Promise<StoredAccount | null>;

  /** Creates whichever of the given homes (and their first collections) do not exist yet. Idempotent. */
  ensureHomes(ownerId: number, homes: readonly HomeLayout[]): Promise<void>;

  // Reading.
  getCollection(path: string): Promise<CollectionRecord | null>;
  getCollectionById(id: number): Promise<CollectionRecord | null>;
  getObject(collectionId: number, name: string): Promise<ObjectRecord | null>;
  getObjectWithBody(collectionId: number, name: string): Promise<ObjectWithBody | null>;
  /**
   * The collection at `collectionPath` and its member `name` (with the body when asked) in one read:
   * null when there is no such collection, `object` null when it has no such member.
   */
  getMember(collectionPath: string, name: string, withBody: boolean): Promise<{ readonly collection: CollectionRecord; readonly object: ObjectRecord | ObjectWithBody | null } | null>;
  /** Every direct member, read in one snapshot and checked against the collection's counters. */
  listMembers(collectionId: number): Promise<CollectionMembers>;
  getProperties(target: PropertyTarget): Promise<StoredProperty[]>;
  /** Objects of a collection with their bodies, by name (names not present are left out). */
  getObjectsWithBodies(collectionId: number, names: readonly string[]): Promise<ObjectWithBody[]>;
  /**
   * Candidate objects for a query, read in one snapshot: all objects, or only those of one component
   * type and/or whose indexed [firstStart, lastEnd] bounds touch the range, ends included (null = unbounded).
   */
  queryObjects(collectionId: number, filter: ObjectQuery): Promise<ObjectWithBody[]>;
  /**
   * Every object's name with the search index stored at write time (no bodies), in one snapshot, by
   * name; with a narrowing, only the rows it keeps (rows without an index are then left out).
   */
  listSearchIndex(collectionId: number, narrowing?: SearchNarrowing): Promise<{ readonly name: string; readonly searchIndex: string | null }[]>;
  /**
   * In one snapshot: the collection's change position and the search index of each member changed
   * after `afterSeq` (or that it is gone). Every member instead (`complete`) when `afterSeq` is 0,
   * when the change log no longer covers it (pruned past it: its horizon is later) or when it is a
   * position the collection has not reached. A complete read is checked against the counters.
   * NotFound when the collection does not exist.
   */
  searchIndexSince(collectionId: number, afterSeq: number): Promise<SearchIndexDelta>;
  changesSince(collectionId: number, afterSeq: number, limit: number): Promise<{ readonly changes: Change[]; readonly oldestSeq: number; readonly currentSeq: number }>;
  /**
   * The members changed after `afterSeq` (every member when 0), each once, oldest change first, at most
   * `limit` of them. A complete answer from 0 is checked against the collection's counters.
   */
  syncChanges(collectionId: number, afterSeq: number, limit: number | null): Promise<SyncPage>;

  /**
   * Removes change-log entries older than the cutoff in short batches: superseded entries and
   * tombstones. Each collection's latest entry per live member stays, and its sync horizon moves past
   * any tombstone removed, so older tokens are refused instead of missing a deletion.
   */
  pruneChanges(olderThan: number, batchSize?: number): Promise<{ readonly removed: number }>;

  // Writing: each call is one durable transaction that also appends to the change log.
  createCollection(input: NewCollection): Promise<CollectionRecord>;
  deleteCollection(collectionId: number): Promise<void>;
  putObject(input: PutObjectInput): Promise<{ readonly created: boolean; readonly object: ObjectRecord }>;
  deleteObject(collectionId: number, name: string, expect?: WriteExpectation): Promise<void>;
  patchProperties(target: PropertyTarget, operations: readonly PropertyOperation[]): Promise<void>;
  copyObject(collectionId: number, name: string, to: Destination): Promise<{ readonly created: boolean }>;
  moveObject(collectionId: number, name: string, to: Destination): Promise<{ readonly created: boolean }>;
  copyCollection(collectionId: number, to: Destination, depthInfinity: boolean): Promise<{ readonly created: boolean }>;
  moveCollection(collectionId: number, to: Destination): Promise<{ readonly created: boolean }>;
}
