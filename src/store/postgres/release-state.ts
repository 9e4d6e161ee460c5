// What a PostgreSQL database says about releases (DESIGN.md §6), shared by every node on it: which
// release last ran its migrations, the operator's expectations, and the node registry. Same records
// as the SQLite store's. Must not import DAV or HTTP.
import { nodeFromRow, type NodeRecord, type NodeRow, type ReleaseExpectation, type ReleaseIdentity } from '../release-store.ts';

interface Queryable {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

const CREATE_EXPECTATIONS = `CREATE TABLE IF NOT EXISTS release_expectations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, version text NOT NULL, migration_hash text NOT NULL,
  window_from bigint, window_until bigint, approved_by text NOT NULL, reason text, created_at bigint NOT NULL)`;

async function hasTable(db: Queryable, name: string): Promise<boolean> {
  const rows = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [name]);
  return rows.rows[0]?.present === true;
}

export async function listExpectations(db: Queryable): Promise<ReleaseExpectation[]> {
  if (!(await hasTable(db, 'release_expectations'))) return [];
  const { rows } = await db.query<{ version: string; migration_hash: string; window_from: number | null; window_until: number | null; approved_by: string; reason: string | null; created_at: number }>(
    'SELECT version, migration_hash, window_from, window_until, approved_by, reason, created_at FROM release_expectations ORDER BY id',
  );
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

/** The operator's approval may precede the release that creates the table (migration 3). */
export async function recordExpectation(db: Queryable, expectation: ReleaseExpectation): Promise<void> {
  await db.query(CREATE_EXPECTATIONS);
  await db.query(
    'INSERT INTO release_expectations (version, migration_hash, window_from, window_until, approved_by, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [expectation.version, expectation.migrationHash, expectation.windowFrom, expectation.windowUntil, expectation.approvedBy, expectation.reason, expectation.createdAt],
  );
}

export async function currentRelease(db: Queryable): Promise<ReleaseIdentity | undefined> {
  if (!(await hasTable(db, 'store_meta'))) return undefined;
  const { rows } = await db.query<{ key: string; value: string }>("SELECT key, value FROM store_meta WHERE key IN ('release_version', 'release_migration_hash')");
  const version = rows.find((r) => r.key === 'release_version')?.value;
  const migrationHash = rows.find((r) => r.key === 'release_migration_hash')?.value;
  return version === undefined || migrationHash === undefined ? undefined : { version, migrationHash };
}

export async function recordCurrentRelease(db: Queryable, release: ReleaseIdentity): Promise<void> {
  await db.query(
    `INSERT INTO store_meta (key, value) VALUES ('release_version', $1), ('release_migration_hash', $2)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [release.version, release.migrationHash],
  );
}

async function hasColumn(db: Queryable, table: string, column: string): Promise<boolean> {
  const rows = await db.query<{ present: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2) AS present',
    [table, column],
  );
  return rows.rows[0]?.present === true;
}

/** Records this node's heartbeat; false when the schema has no registry yet (an older database). */
export async function heartbeat(db: Queryable, node: NodeRecord): Promise<boolean> {
  if (!(await hasTable(db, 'nodes'))) return false;
  // On the previous release's schema (before migration 8) there is no known_migration to fill.
  const known = node.knownMigration !== undefined && (await hasColumn(db, 'nodes', 'known_migration'));
  await db.query(
    known
      ? `INSERT INTO nodes (id, version, migration_hash, host, pid, started_at, heartbeat_at, known_migration) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, known_migration = excluded.known_migration`
      : `INSERT INTO nodes (id, version, migration_hash, host, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
    [node.id, node.version, node.migrationHash, node.host, node.pid, node.startedAt, node.heartbeatAt, ...(known ? [node.knownMigration] : [])],
  );
  return true;
}

export async function forgetNode(db: Queryable, id: string): Promise<void> {
  if (await hasTable(db, 'nodes')) await db.query('DELETE FROM nodes WHERE id = $1', [id]);
}

export async function liveNodes(db: Queryable, since: number): Promise<NodeRecord[]> {
  if (!(await hasTable(db, 'nodes'))) return [];
  const known = (await hasColumn(db, 'nodes', 'known_migration')) ? 'known_migration' : 'NULL::integer AS known_migration';
  const { rows } = await db.query<NodeRow>(
    `SELECT id, version, migration_hash, host, pid, started_at, heartbeat_at, ${known} FROM nodes WHERE heartbeat_at >= $1 ORDER BY started_at`,
    [since],
  );
  return rows.map(nodeFromRow);
}
