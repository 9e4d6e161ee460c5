// The release-guard side of a store (DESIGN.md §6), shared by every backend: what the start-up
// comparison between this release and the database found, the operator's release expectations, and
// the node registry. app.ts and `almanac release` use only this. The record types were first defined
// with the SQLite store and are re-exported here. Imports only store types.
import type { NodeRecord, ReleaseExpectation, ReleaseIdentity } from './sqlite/release-state.ts';
import type { Store } from './store.ts';

export type { NodeRecord, ReleaseExpectation, ReleaseIdentity };

/** The outcome of the start-up comparison between this release and the database. */
export interface ReleaseGuardState {
  /** Undefined when the release may run; otherwise what is unexpected about it. */
  readonly unexpected: string | undefined;
  readonly schemaVersion: number;
  /** Whether this code can serve on the schema it found. */
  readonly canServe: boolean;
  readonly pending: readonly number[];
}

export interface ReleaseRecords {
  readonly current: ReleaseIdentity | undefined;
  readonly expectations: ReleaseExpectation[];
  readonly applied: number[];
  readonly pending: number[];
}

/** Synchronous on SQLite (an embedded file), asynchronous on PostgreSQL: callers always await. */
export interface ReleaseStore {
  releaseGuard(): ReleaseGuardState;
  releaseRecords(): ReleaseRecords | Promise<ReleaseRecords>;
  /** Registers or refreshes this node; false when the schema has no registry yet. */
  heartbeat(node: NodeRecord): Promise<boolean>;
  forgetNode(id: string): Promise<void>;
  liveNodes(since: number): NodeRecord[] | Promise<NodeRecord[]>;
  expectRelease(expectation: ReleaseExpectation): void | Promise<void>;
}

export function isReleaseStore(store: Store): store is Store & ReleaseStore {
  const candidate = store as Partial<ReleaseStore>;
  return typeof candidate.releaseGuard === 'function' && typeof candidate.heartbeat === 'function' && typeof candidate.expectRelease === 'function';
}

/** Why this release may not change the schema now, or undefined when an expectation covers it. */
export function unexpectedAmong(expectations: readonly ReleaseExpectation[], release: ReleaseIdentity, now: number): string | undefined {
  const sameVersion = expectations.filter((e) => e.version === release.version);
  if (sameVersion.length === 0) return `release ${release.version} is not expected by this database`;
  const sameHash = sameVersion.filter((e) => e.migrationHash === release.migrationHash);
  if (sameHash.length === 0) return `release ${release.version} is expected with other migrations (hash differs from ${release.migrationHash.slice(0, 12)})`;
  const inWindow = sameHash.filter((e) => (e.windowFrom === null || e.windowFrom <= now) && (e.windowUntil === null || now <= e.windowUntil));
  if (inWindow.length === 0) return `release ${release.version} is expected, but not at this time (outside its window)`;
  return undefined;
}

/** A row of the nodes table, as both stores select it (known_migration NULL before that column exists). */
export interface NodeRow {
  readonly id: string;
  readonly version: string;
  readonly migration_hash: string;
  readonly host: string;
  readonly pid: number;
  readonly started_at: number;
  readonly heartbeat_at: number;
  readonly known_migration: number | null;
}

export function nodeFromRow(r: NodeRow): NodeRecord {
  return { id: r.id, version: r.version, migrationHash: r.migration_hash, host: r.host, pid: r.pid, startedAt: r.started_at, heartbeatAt: r.heartbeat_at, knownMigration: r.known_migration };
}
