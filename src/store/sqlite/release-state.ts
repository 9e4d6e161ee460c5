// What the database says about releases (DESIGN.md §6): which version last ran its migrations, and
// which versions an operator expects, with their migration set's hash and time window. Read at start
// before any DDL; written by `almanac release expect`. Must not import DAV or HTTP.
import type Database from 'better-sqlite3';
import { nodeFromRow, type NodeRow } from '../release-store.ts';

export interface ReleaseIdentity {
  readonly version: string;
  /** Hash of the ordered migration checksums this release ships. */
  readonly migrationHash: string;
}

export interface ReleaseExpectation extends ReleaseIdentity {
  readonly windowFrom: number | null;
  readonly windowUntil: number | null;
  readonly approvedBy: string;
  readonly reason: string | null;
  readonly createdAt: number;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS release_expectations (
  id INTEGER PRIMARY KEY, version TEXT NOT NULL, migration_hash TEXT NOT NULL, window_from INTEGER,
  window_until INTEGER, approved_by TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL) STRICT`;

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

export function listExpectations(db: Database.Database): ReleaseExpectation[] {
  if (!hasTable(db, 'release_expectations')) return [];
  const rows = db
    .prepare('SELECT version, migration_hash, window_from, window_until, approved_by, reason, created_at FROM release_expectations ORDER BY id')
    .all() as { version: string; migration_hash: string; window_from: number | null; window_until: number | null; approved_by: string; reason: string | null; created_at: number }[];
  return rows.map((r) => ({
    version: r.version,
    migrationHash: r.migration_hash,
    windowFrom: r.window_from,
    windowUntil: r.window_until,
    approvedBy: r.approved_by,
    reason: r.reason,
    createdAt: r.created_at,
  }));
}

/** Why this release may not change the schema now, or undefined when an expectation covers it. */
export function unexpectedBecause(db: Database.Database, release: ReleaseIdentity, now: number): string | undefined {
  const sameVersion = listExpectations(db).filter((e) => e.version === release.version);
  if (sameVersion.length === 0) return `release ${release.version} is not expected by this database`;
  const sameHash = sameVersion.filter((e) => e.migrationHash === release.migrationHash);
  if (sameHash.length === 0) return `release ${release.version} is expected with other migrations (hash differs from ${release.migrationHash.slice(0, 12)})`;
  const inWindow = sameHash.filter((e) => (e.windowFrom === null || e.windowFrom <= now) && (e.windowUntil === null || now <= e.windowUntil));
  if (inWindow.length === 0) return `release ${release.version} is expected, but not at this time (outside its window)`;
  return undefined;
}

export function recordExpectation(db: Database.Database, expectation: ReleaseExpectation): void {
  // The operator's approval may precede the release that creates this table (migration 0006).
  db.exec(CREATE_TABLE);
  db.prepare(
    'INSERT INTO release_expectations (version, migration_hash, window_from, window_until, approved_by, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(expectation.version, expectation.migrationHash, expectation.windowFrom, expectation.windowUntil, expectation.approvedBy, expectation.reason, expectation.createdAt);
}

export function currentRelease(db: Database.Database): ReleaseIdentity | undefined {
  if (!hasTable(db, 'store_meta')) return undefined;
  const get = (key: string): string | undefined => (db.prepare('SELECT value FROM store_meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  const version = get('release_version');
  const migrationHash = get('release_migration_hash');
  return version === undefined || migrationHash === undefined ? undefined : { version, migrationHash };
}

export function recordCurrentRelease(db: Database.Database, release: ReleaseIdentity): void {
  const set = db.prepare('INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  set.run('release_version', release.version);
  set.run('release_migration_hash', release.migrationHash);
}

export interface NodeRecord extends ReleaseIdentity {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly heartbeatAt: number;
  /**
   * The highest migration version of this store the node's code knows and found in place when it
   * started (migration 0012; the store fills it in, see knownMigration in ./migrator.ts). Null when
   * read from a node of an earlier release, or on a schema without the column: such a node counts as
   * knowing too little for any contract step.
   */
  readonly knownMigration?: number | null;
}

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  return (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).some((c) => c.name === column);
}

/** Records this node's heartbeat; false when the schema has no registry yet (an older database). */
export function heartbeat(db: Database.Database, node: NodeRecord): boolean {
  if (!hasTable(db, 'nodes')) return false;
  db.prepare(
    `INSERT INTO nodes (id, version, migration_hash, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
  ).run(node.id, node.version, node.migrationHash, node.host, node.pid, node.startedAt, node.heartbeatAt);
  // On the previous release's schema (before 0012) there is no column to fill: the release serves on.
  if (node.knownMigration !== undefined && hasColumn(db, 'nodes', 'known_migration')) {
    db.prepare('UPDATE nodes SET known_migration = ? WHERE id = ?').run(node.knownMigration, node.id);
  }
  return true;
}

export function forgetNode(db: Database.Database, id: string): void {
  if (hasTable(db, 'nodes')) db.prepare('DELETE FROM nodes WHERE id = ?').run(id);
}

/** Nodes whose last heartbeat is newer than `since`. */
export function liveNodes(db: Database.Database, since: number): NodeRecord[] {
  if (!hasTable(db, 'nodes')) return [];
  const known = hasColumn(db, 'nodes', 'known_migration') ? 'known_migration' : 'NULL AS known_migration';
  const rows = db
    .prepare(`SELECT id, version, migration_hash, host, pid, started_at, heartbeat_at, ${known} FROM nodes WHERE heartbeat_at >= ? ORDER BY started_at`)
    .all(since) as NodeRow[];
  return rows.map(nodeFromRow);
}
