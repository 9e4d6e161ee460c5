// A small versioned migration runner for SQLite: applies numbered migrations in order, records each
// with a checksum of its content, and refuses a history that was edited, reordered or is unknown in a
// way this release cannot serve. The safe-release work (expand/backfill/contract) grows from here.
// Must not import the DAV or HTTP layers.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export type MigrationPhase = 'expand' | 'backfill' | 'contract';

/** A SQLite value a backfill may write. */
export type SqliteValue = string | number | bigint | Uint8Array | null;

/**
 * A backfill declared in code (DESIGN.md §6): which rows (a keyset over an INTEGER key, visited in
 * key order), and an idempotent function computing the new values of one row. The runner reads a
 * batch, writes what `derive` returns and moves its checkpoint in ONE immediate transaction, so a
 * crash at any moment resumes exactly after the last committed batch.
 */
export interface BackfillDefinition {
  readonly table: string;
  /** An INTEGER PRIMARY KEY (rowid alias) column: the checkpoint is the last key done. */
  readonly key: string;
  /** Columns `derive` reads (the key is always read). */
  readonly columns: readonly string[];
  /**
   * Where the values go: by default an UPDATE of the same row; with `into`, an upsert into a side
   * table keyed by the same key (derived columns of a big STRICT table live there, see 0009).
   */
  readonly into?: {
    readonly table: string;
    readonly key: string;
    /** INSERT OR REPLACE instead of an upsert: virtual tables (R*Tree, 0015) have no ON CONFLICT. */
    readonly replace?: true;
  };
  /**
   * The new column values for one row, or undefined to leave it alone. Must be idempotent: it may
   * run again on a row whose batch was rolled back, and on rows the new write path already filled.
   */
  readonly derive: (row: Readonly<Record<string, unknown>>) => Readonly<Record<string, SqliteValue>> | undefined;
}

export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  readonly phase: MigrationPhase;
  /**
   * The statements of an expand or contract step. For a backfill declared in code, a description of
   * what it writes and a revision: it is part of the checksum, so change it whenever `derive` changes.
   */
  readonly sql: string;
  /** Only for phase 'backfill': the batched work, run by the backfill runner (./backfill.ts). */
  readonly backfill?: BackfillDefinition;
  /**
   * Only for phase 'contract': what "no live node still needs the old shape" means for this step —
   * the oldest migration version of this store whose code no longer needs what the step removes.
   * Each node records the highest migration version its code knows with its heartbeat, and
   * `almanac migrate contract` refuses while a live node knows less. Without it, the step's own version.
   */
  readonly safeOnceNodesKnow?: number;
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
  // The declaration is part of what a contract step is; absent, the checksum is what it always was.
  const declared = migration.safeOnceNodesKnow === undefined ? '' : `\nsafe once nodes know ${migration.safeOnceNodesKnow}`;
  return createHash('sha256').update(`${migration.version}\n${migration.name}\n${migration.phase}\n${migration.sql}${declared}`).digest('hex');
}

/**
 * What a node records with its heartbeat for the contract gate: the highest migration of its code's
 * set that was in place when it opened the store (`pending` = those that were not). Not simply the
 * highest its code knows: a store looks at the schema when it opens (e.g. whether object_busy exists,
 * so its writes keep it), so a node that started on an older schema behaves like older code until it
 * restarts, and must not let a contract step that relies on the newer write path pass.
 */
export function knownMigration(migrations: readonly { readonly version: number }[], pending: readonly number[] = []): number {
  return Math.max(0, ...migrations.filter((m) => !pending.includes(m.version)).map((m) => m.version));
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
  // A backfill or contract legitimately stays pending behind later expand migrations (they are run
  // by their own, later steps); only a skipped expand means the history was reordered.
  const outOfOrder = pending.find((m) => m.phase === 'expand' && m.version < highestApplied && unknown.length === 0);
  if (outOfOrder !== undefined) {
    throw new MigrationHistoryError(`migration ${outOfOrder.version}-${outOfOrder.name} is older than applied migration ${highestApplied} but was never applied: migrations were reordered`);
  }
  return { pending, unknown };
}

/**
 * Runs fn in one BEGIN IMMEDIATE transaction and tells apart the wait for the write lock from the
 * time it was held (through the end of COMMIT, its fsync included): only the latter delays others.
 */
export function holdingWriteLock<T>(db: Database.Database, clock: () => number, fn: () => T): { value: T; lockMs: number; waitMs: number } {
  const asked = clock();
  db.exec('BEGIN IMMEDIATE');
  const got = clock();
  try {
    const value = fn();
    db.exec('COMMIT');
    return { value, lockMs: clock() - got, waitMs: got - asked };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

export function ensureMigrationTable(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, phase TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL
  ) STRICT`);
}

export function recordMigration(db: Database.Database, migration: SqliteMigration, appliedAt: number): void {
  db.prepare('INSERT INTO schema_migrations (version, name, phase, checksum, applied_at) VALUES (?, ?, ?, ?, ?)').run(
    migration.version,
    migration.name,
    migration.phase,
    migrationChecksum(migration),
    appliedAt,
  );
}

/**
 * Applies the pending migrations, each in its own IMMEDIATE transaction together with its record.
 * A backfill declared in code runs to the end here in batches (`runBackfill`): this path is for an
 * empty database, tools and tests; a serving node runs backfills in the background instead.
 */
export function applyMigrations(
  db: Database.Database,
  known: readonly SqliteMigration[],
  now: () => number = Date.now,
  runBackfill: (db: Database.Database, migration: SqliteMigration) => void = () => {
    throw new Error('a backfill migration needs a backfill runner');
  },
  onApplied?: (migration: SqliteMigration, lockMs: number) => void,
  /** Called as a step starts; the function it returns is called when the step has ended. */
  announce?: (migration: SqliteMigration) => () => void,
): SqliteMigration[] {
  ensureMigrationTable(db);
  const { pending, unknown } = planMigrations(readAppliedMigrations(db), known);
  if (unknown.length > 0) return []; // a newer release owns the schema: never migrate under it
  for (const migration of pending) {
    if (migration.backfill !== undefined) {
      runBackfill(db, migration); // records the migration in its last batch's transaction
      continue;
    }
    const ended = announce?.(migration);
    let lockMs: number;
    try {
      ({ lockMs } = holdingWriteLock(db, () => performance.now(), () => {
        db.exec(migration.sql);
        recordMigration(db, migration, now());
      }));
    } finally {
      ended?.();
    }
    onApplied?.(migration, lockMs);
  }
  return pending;
}
