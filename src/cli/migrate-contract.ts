// `almanac migrate contract`: the destructive phase, only by this explicit command (DESIGN.md §6) and
// only when (1) this release is the one the database runs, (2) every backfill before it is done,
// (3) every live node runs this release's migration set (none still needs the old shape), and
// (4) a passing, fresh rehearsal of this migration set included each contract step.
import type Database from 'better-sqlite3';
import { currentReleaseIdentity } from '../release/identity.ts';
import { readAppliedMigrations, recordMigration, type SqliteMigration } from '../store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import { latestRehearsal, rehearsalProblem } from '../store/sqlite/rehearsals.ts';
import { currentRelease, liveNodes } from '../store/sqlite/release-state.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { openDatabaseFile } from './migrate-progress.ts';
import type { StoreOptions } from './store.ts';

/** Why the contract steps may not run now, or an empty list. */
export function contractBlockers(db: Database.Database, migrations: readonly SqliteMigration[], identity: { version: string; migrationHash: string }, now: number): { pending: SqliteMigration[]; blockers: string[] } {
  const applied = new Set(readAppliedMigrations(db).map((m) => m.version));
  const pending = migrations.filter((m) => m.phase === 'contract' && !applied.has(m.version));
  if (pending.length === 0) return { pending, blockers: [] };
  const blockers: string[] = [];
  const current = currentRelease(db);
  if (current?.migrationHash !== identity.migrationHash) {
    blockers.push(`the database runs ${current === undefined ? 'an unknown release' : `release ${current.version}`}, not this one (${identity.version}): start this release first`);
  }
  const first = Math.min(...pending.map((m) => m.version));
  const backfills = migrations.filter((m) => m.phase === 'backfill' && m.version < first && !applied.has(m.version));
  if (backfills.length > 0) blockers.push(`backfill ${backfills.map((m) => `${m.version}-${m.name}`).join(', ')} is not done (see almanac migrate status)`);
  // A node beats every 15 s; a minute of silence means it is gone.
  const older = liveNodes(db, now - 60_000).filter((n) => n.migrationHash !== identity.migrationHash);
  if (older.length > 0) blockers.push(`live node(s) still run another release and may need the old shape: ${older.map((n) => `${n.host} pid ${n.pid} (almanac ${n.version})`).join(', ')}`);
  const problem = rehearsalProblem(db, identity.migrationHash, now);
  if (problem !== undefined) blockers.push(problem);
  else {
    const rehearsed = new Set((JSON.parse(latestRehearsal(db, identity.migrationHash)?.report ?? '{}') as { steps?: { version: number }[] }).steps?.map((s) => s.version));
    const missing = pending.filter((m) => !rehearsed.has(m.version));
    if (missing.length > 0) blockers.push(`the latest rehearsal did not include ${missing.map((m) => `${m.version}-${m.name}`).join(', ')}; run almanac migrate rehearse again`);
  }
  return { pending, blockers };
}

export function migrateContract(options: StoreOptions, io: CliIo, migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS): number {
  const db = openDatabaseFile(options, io);
  try {
    const { pending, blockers } = contractBlockers(db, migrations, currentReleaseIdentity(), Date.now());
    if (pending.length === 0) {
      io.stdout('no contract migration is pending\n');
      return ExitCode.ok;
    }
    if (blockers.length > 0) throw new CliError(ExitCode.failure, `contract refused:\n  ${blockers.join('\n  ')}`);
    for (const migration of pending) {
      const started = performance.now();
      db.transaction(() => {
        db.exec(migration.sql);
        recordMigration(db, migration, Date.now());
      }).immediate();
      io.stdout(`${migration.version}-${migration.name}: applied, write lock held ${(performance.now() - started).toFixed(1)} ms\n`);
    }
    return ExitCode.ok;
  } finally {
    db.close();
  }
}
