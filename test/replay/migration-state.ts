// The "migration in progress" state for the replay: a data folder on the previous release's schema
// with this release approved, so the server runs the expand at start, and the reference backfill's
// pause flag already set, so the whole replay runs while the migration is half done (DESIGN.md §6).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { migrateRehearse } from '../../src/cli/migrate-rehearse.ts';
import { processIo } from '../../src/cli/io.ts';
import { currentReleaseIdentity } from '../../src/release/identity.ts';
import { setBackfillPaused } from '../../src/store/sqlite/backfill.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';
import { DATABASE_FILE, SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

/** The first migration of the reference online migration (the object_busy side table). */
const REFERENCE_EXPAND = 9;

export const PREVIOUS_MIGRATIONS = SQLITE_MIGRATIONS.filter((m) => m.version < REFERENCE_EXPAND);
export const PENDING_BACKFILLS = SQLITE_MIGRATIONS.filter((m) => m.version >= REFERENCE_EXPAND && m.phase === 'backfill').map((m) => m.version);

export async function prepareMigrationInProgress(dataDir: string): Promise<void> {
  const previous = SqliteStore.open({ dataDir, migrations: PREVIOUS_MIGRATIONS, release: { version: '0.0.9', migrationHash: 'previous-release' } });
  await previous.close();
  // The operator's two steps: rehearse this release's migrations on a copy, then expect it.
  const silent = processIo({ stdout: () => undefined, stderr: () => undefined, env: {} });
  // A rehearsal measures lock times; on a loaded test machine one step can be descheduled past the
  // 100 ms budget. As an operator would, run it again (a passing one is what `release expect` needs).
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateRehearse({ data: dataDir, json: true, loadRate: '20' }, silent);
      break;
    } catch (error) {
      if (attempt >= 3 || !/over the \d+ ms lock budget/u.test(String(error))) throw error;
    }
  }
  const approving = SqliteStore.open({ dataDir, migrations: PREVIOUS_MIGRATIONS, release: { version: '0.0.9', migrationHash: 'previous-release' } });
  try {
    approving.expectRelease({ ...currentReleaseIdentity(), windowFrom: null, windowUntil: null, approvedBy: 'replay', reason: 'migration-state replay', createdAt: Date.now() });
  } finally {
    await approving.close();
  }
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    setBackfillPaused(db, SQLITE_MIGRATIONS, true, Date.now());
  } finally {
    db.close();
  }
}
