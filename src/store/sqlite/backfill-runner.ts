// The background backfill runner of a SQLite node (DESIGN.md §6): the shared engine
// (../backfill-engine.ts: claim, adaptive batches, latency back-off, pause) driven over this file's
// connection by the synchronous batch and checkpoint functions of ./backfill.ts. Must not import DAV
// or HTTP: the latency signal and the logging come in as functions.
import type Database from 'better-sqlite3';
import { BackfillEngine, type BackfillDriver, type BackfillEngineOptions, type BackfillRunSummary } from '../backfill-engine.ts';
import { claimBackfill, noteBatchStats, readBackfill, releaseBackfill, runBatch } from './backfill.ts';
import { readAppliedMigrations, type SqliteMigration } from './migrator.ts';

export type { BackfillEvent, BackfillRunSummary } from '../backfill-engine.ts';

export interface BackfillRunnerOptions extends BackfillEngineOptions {
  readonly db: Database.Database;
  readonly migrations: readonly SqliteMigration[];
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

export function pendingBackfills(db: Database.Database, migrations: readonly SqliteMigration[]): SqliteMigration[] {
  const applied = new Set(readAppliedMigrations(db).map((m) => m.version));
  return migrations.filter((m) => m.phase === 'backfill' && m.backfill !== undefined && !applied.has(m.version));
}

/** The SQLite side of the engine: each call is synchronous on one connection. */
function sqliteDriver(db: Database.Database): BackfillDriver<SqliteMigration> {
  return {
    claim: (migration, node, now, staleAfterMs, initialBatchSize) => Promise.resolve(claimBackfill(db, migration, node, now, staleAfterMs, initialBatchSize)),
    read: (version) => Promise.resolve(readBackfill(db, version)),
    runBatch: (migration, request) => Promise.resolve(runBatch(db, migration, request)),
    noteStats: (version, longest, rate, throttled, node, now) => Promise.resolve(noteBatchStats(db, version, longest, rate, throttled, node, now)),
    release: (version, node) => Promise.resolve(releaseBackfill(db, version, node)),
    isBusy,
    afterBatch: (batches) => {
      if (batches % 20 === 0) db.pragma('wal_checkpoint(PASSIVE)');
    },
  };
}

/**
 * The batch time a SQLite backfill aims at. Its write lock stops every writer of the database (not
 * just of the rows it touches, as on PostgreSQL), and a write that meets a batch waits for the rest
 * of it: at 5 ms that wait stays within a write's usual spread, so request p99 barely moves and the
 * latency back-off rarely has to slow the backfill down (with 25 ms it did, and the live run took
 * twice its rehearsed time). derive runs before the lock, so a short lock still moves many rows.
 */
export const SQLITE_TARGET_BATCH_MS = 5;

export class BackfillRunner {
  private readonly options: BackfillRunnerOptions;
  private readonly engine: BackfillEngine<SqliteMigration>;

  constructor(options: BackfillRunnerOptions) {
    this.options = options;
    this.engine = new BackfillEngine(sqliteDriver(options.db), { targetBatchMs: SQLITE_TARGET_BATCH_MS, ...options });
  }

  /** Starts (once) and resolves when every pending backfill is done or `stop()` was called. */
  run(): Promise<BackfillRunSummary> {
    // SQLite checkpoints the WAL inside the COMMIT that crosses its threshold, after the write lock
    // is released but before COMMIT returns: it would count as lock time and stall the batch. The
    // runner checkpoints itself between batches instead (PASSIVE: never waits for readers or writers).
    this.options.db.pragma('wal_autocheckpoint = 0');
    return this.engine.run(() => pendingBackfills(this.options.db, this.options.migrations));
  }

  /** Finishes the batch in progress (never interrupts one) and resolves once the runner is idle. */
  stop(): Promise<void> {
    return this.engine.stop();
  }
}
