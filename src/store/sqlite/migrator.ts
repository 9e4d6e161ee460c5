// A small versioned migration runner for SQLite: applies numbered migrations in order, records each
// with a checksum of its content, and refuses a history that was edited, reordered or is unknown in a
// way this release cannot serve. The safe-release work (expand/backfill/contract) grows from here.
// Must not import the DAV or HTTP layers.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export type MigrationPhase = 'expand' | 'backfill' | 'contract';

export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  readonly phase: MigrationPhase;
  readonly sql: string;
}

export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly phase: string;
  readonly checksum: string;
}

export class MigrationHistoryError extends Error {
  override readonly name = 'MigrationHistoryError';
}

export function migrationChecksum(migration: SqliteMigration): string {
  return createHash('sha256').update(`${migration.version}\n${migration.name}\n${migration.phase}\n${migration.sql}`).digest('hex');
}

export function readAppliedMigrations(db: Database.Database): AppliedMigration[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (exists === undefined) return [];
  return db.prepare('SELECT version, name, phase, checksum FROM schema_migrations ORDER BY version').all() as AppliedMigration[];
}

/**
 * Compares the database's history with the migrations this release knows. Returns the pending ones.
 * Throws when an applied migration differs from the file of the same number (edited history).
 * Applied migrations this release does not know (a newer release's) are reported, not fatal: a
 * release must keep serving on a schema that was only expanded after it (DESIGN.md §5.5).
 */
export function planMigrations(applied: readonly AppliedMigration[], known: readonly SqliteMigration[]): { pending: SqliteMigration[]; unknown: AppliedMigration[] } {
  const byVersion = new Map(known.map((m) => [m.version, m]));
  const unknown: AppliedMigration[] = [];
  for (const row of applied) {
    const mine = byVersion.get(row.version);
    if (mine === undefined) {
      unknown.push(row);
      continue;
    }
    if (mine.name !== row.name) {
      throw new MigrationHistoryError(`migration ${row.version} was applied as "${row.name}" but this release names it "${mine.name}": history was reordered or renamed`);
    }
    if (migrationChecksum(mine) !== row.checksum) {
      throw new MigrationHistoryError(`migration ${row.version}-${row.name} was edited after it was applied (checksum differs); add a new migration instead`);
    }
  }
  const appliedVersions = new Set(applied.map((row) => row.version));
  const pending = known.filter((m) => !appliedVersions.has(m.version));
  const highestApplied = Math.max(0, ...applied.map((row) => row.version));
  const outOfOrder = pending.find((m) => m.version < highestApplied && unknown.length === 0);
  if (outOfOrder !== undefined) {
    throw new MigrationHistoryError(`migration ${outOfOrder.version}-${outOfOrder.name} is older than applied migration ${highestApplied} but was never applied: migrations were reordered`);
  }
  return { pending, unknown };
}

/** Applies the pending migrations, each in its own IMMEDIATE transaction together with its record. */
export function applyMigrations(db: Database.Database, known: readonly SqliteMigration[], now: () => number = Date.now): SqliteMigration[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, phase TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL
  ) STRICT`);
  const { pending, unknown } = planMigrations(readAppliedMigrations(db), known);
  if (unknown.length > 0) return []; // a newer release owns the schema: never migrate under it
  const record = db.prepare('INSERT INTO schema_migrations (version, name, phase, checksum, applied_at) VALUES (?, ?, ?, ?, ?)');
  for (const migration of pending) {
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, migration.phase, migrationChecksum(migration), now());
    }).immediate();
  }
  return pending;
}
