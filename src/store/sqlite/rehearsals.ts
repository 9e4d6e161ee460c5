// Rehearsal records (DESIGN.md §6): reports of `almanac migrate rehearse` kept in the live database,
// tied to the migration set's hash and the data size, and the freshness rule `almanac release expect`
// and `almanac migrate contract` apply to them. Must not import DAV or HTTP.
import type Database from 'better-sqlite3';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS migration_rehearsals (
  id INTEGER PRIMARY KEY, migration_hash TEXT NOT NULL, version TEXT NOT NULL, passed INTEGER NOT NULL,
  data_bytes INTEGER NOT NULL, object_rows INTEGER NOT NULL, longest_lock_ms REAL NOT NULL,
  estimated_ms REAL NOT NULL, report TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT`;

export interface RehearsalRecord {
  readonly id: number;
  readonly migrationHash: string;
  readonly version: string;
  readonly passed: boolean;
  readonly dataBytes: number;
  readonly objectRows: number;
  readonly longestLockMs: number;
  readonly estimatedMs: number;
  /** The full report as JSON. */
  readonly report: string;
  readonly createdAt: number;
}

/** A rehearsal older than this, or run on less than 1/GROWTH of today's data, no longer vouches. */
export const REHEARSAL_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const REHEARSAL_MAX_GROWTH = 1.5;

/** The live database's size in bytes (pages in use), what a rehearsal's freshness is compared with. */
export function databaseBytes(db: Database.Database): number {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const size = db.pragma('page_size', { simple: true }) as number;
  return (pages - free) * size;
}

export function recordRehearsal(db: Database.Database, record: Omit<RehearsalRecord, 'id'>): number {
  db.exec(CREATE_TABLE);
  const result = db
    .prepare(
      `INSERT INTO migration_rehearsals (migration_hash, version, passed, data_bytes, object_rows, longest_lock_ms, estimated_ms, report, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(record.migrationHash, record.version, record.passed ? 1 : 0, record.dataBytes, record.objectRows, record.longestLockMs, record.estimatedMs, record.report, record.createdAt);
  return Number(result.lastInsertRowid);
}

export function latestRehearsal(db: Database.Database, migrationHash: string): RehearsalRecord | undefined {
  if (db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'migration_rehearsals'").get() === undefined) return undefined;
  const row = db.prepare('SELECT * FROM migration_rehearsals WHERE migration_hash = ? ORDER BY created_at DESC, id DESC LIMIT 1').get(migrationHash) as
    | { id: number; migration_hash: string; version: string; passed: number; data_bytes: number; object_rows: number; longest_lock_ms: number; estimated_ms: number; report: string; created_at: number }
    | undefined;
  if (row === undefined) return undefined;
  return {
    id: row.id,
    migrationHash: row.migration_hash,
    version: row.version,
    passed: row.passed === 1,
    dataBytes: row.data_bytes,
    objectRows: row.object_rows,
    longestLockMs: row.longest_lock_ms,
    estimatedMs: row.estimated_ms,
    report: row.report,
    createdAt: row.created_at,
  };
}

/** Why the latest rehearsal of this migration set does not vouch for it now, or undefined when it does. */
export function rehearsalProblem(db: Database.Database, migrationHash: string, now: number): string | undefined {
  const latest = latestRehearsal(db, migrationHash);
  const rerun = `run \`almanac migrate rehearse\` with this release's binary`;
  if (latest === undefined) return `migration set ${migrationHash.slice(0, 12)} was never rehearsed on this database; ${rerun}`;
  if (!latest.passed) return `the latest rehearsal of migration set ${migrationHash.slice(0, 12)} failed (longest lock ${latest.longestLockMs.toFixed(1)} ms); fix the migration and ${rerun}`;
  if (now - latest.createdAt > REHEARSAL_MAX_AGE_MS) return `the latest rehearsal is older than ${REHEARSAL_MAX_AGE_MS / 86_400_000} days; ${rerun}`;
  const bytes = databaseBytes(db);
  if (bytes > latest.dataBytes * REHEARSAL_MAX_GROWTH) return `the database grew from ${latest.dataBytes} to ${bytes} bytes since the rehearsal; ${rerun}`;
  return undefined;
}

/**
 * At start, for an expected release that still has migrations to run: the rehearsal that
 * `almanac release expect` required must still vouch for them (fresh, passing, on data this size),
 * or the release is treated as unexpected and runs no DDL.
 */
export function unrehearsedBecause(db: Database.Database, release: { version: string; migrationHash: string }, pendingMigrations: number, now: number): string | undefined {
  if (pendingMigrations === 0) return undefined;
  const problem = rehearsalProblem(db, release.migrationHash, now);
  return problem === undefined ? undefined : `release ${release.version} is expected, but ${problem}`;
}

/** A step's wall time in the latest passing rehearsal of this migration set, or null. */
export function rehearsedStepMs(db: Database.Database, migrationHash: string, version: number): number | null {
  const latest = latestRehearsal(db, migrationHash);
  if (latest?.passed !== true) return null;
  const steps = (JSON.parse(latest.report) as { steps?: { version: number; wallMs: number }[] }).steps ?? [];
  return steps.find((step) => step.version === version)?.wallMs ?? null;
}
