// `almanac migrate contract`: the destructive phase, only by this explicit command (DESIGN.md §6), on
// SQLite (--data) or PostgreSQL (--database postgres://…), and only when (1) this release is the one
// the database runs, (2) every backfill before it is done, (3) no live node still needs the old shape
// — each contract step declares the oldest migration version whose code no longer needs it
// (safeOnceNodesKnow) and every live node's heartbeat must record at least that — and (4) a passing,
// fresh rehearsal of this migration set included each contract step.
import type Database from 'better-sqlite3';
import { currentReleaseIdentity } from '../release/identity.ts';
import { isPostgresUrl } from '../store/open.ts';
import { applyMigrations as applyPostgresMigrations, readAppliedMigrations as readPostgresApplied, withMigrationLock, type PostgresMigration } from '../store/postgres/migrator.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import * as pgRehearsals from '../store/postgres/rehearsals.ts';
import * as pgReleaseState from '../store/postgres/release-state.ts';
import type { NodeRecord, ReleaseIdentity } from '../store/release-store.ts';
import { holdingWriteLock, readAppliedMigrations, recordMigration, type MigrationPhase, type SqliteMigration } from '../store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import { latestRehearsal, rehearsalProblem, rehearsedStepMs } from '../store/sqlite/rehearsals.ts';
import { currentRelease, liveNodes } from '../store/sqlite/release-state.ts';
import { announceStep, clearStep } from '../store/sqlite/step-announcement.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { openDatabaseFile } from './migrate-progress.ts';
import { storeConfig, type StoreOptions } from './store.ts';

/** A node beats every 15 s; a minute of silence means it is gone. */
const LIVE_WITHIN_MS = 60_000;

interface ContractCandidate {
  readonly version: number;
  readonly name: string;
  readonly phase: MigrationPhase;
  readonly safeOnceNodesKnow?: number;
}

/** What the gate looks at, read from either store. */
export interface ContractFacts<M extends ContractCandidate> {
  readonly migrations: readonly M[];
  readonly applied: ReadonlySet<number>;
  readonly current: ReleaseIdentity | undefined;
  readonly liveNodes: readonly NodeRecord[];
  /** Why the latest rehearsal of this migration set does not vouch for it, or undefined. */
  readonly rehearsalProblem: string | undefined;
  /** The migration versions the latest rehearsal of this migration set ran. */
  readonly rehearsed: ReadonlySet<number>;
}

const label = (m: { readonly version: number; readonly name: string }): string => `${m.version}-${m.name}`;

/** The migration version a contract step needs every live node to know. */
export function neededKnowledge(migration: ContractCandidate): number {
  return migration.safeOnceNodesKnow ?? migration.version;
}

/** Why the pending contract steps may not run now (an empty list when nothing blocks them). */
export function contractBlockersFrom<M extends ContractCandidate>(facts: ContractFacts<M>, identity: ReleaseIdentity): { pending: M[]; blockers: string[] } {
  const pending = facts.migrations.filter((m) => m.phase === 'contract' && !facts.applied.has(m.version));
  if (pending.length === 0) return { pending, blockers: [] };
  const blockers: string[] = [];
  const current = facts.current;
  if (current?.migrationHash !== identity.migrationHash) {
    blockers.push(`the database runs ${current === undefined ? 'an unknown release' : `release ${current.version}`}, not this one (${identity.version}): start this release first`);
  }
  const first = Math.min(...pending.map((m) => m.version));
  const backfills = facts.migrations.filter((m) => m.phase === 'backfill' && m.version < first && !facts.applied.has(m.version));
  if (backfills.length > 0) blockers.push(`backfill ${backfills.map(label).join(', ')} is not done (see almanac migrate status)`);
  for (const migration of pending) {
    const needed = neededKnowledge(migration);
    const behind = facts.liveNodes.filter((n) => (n.knownMigration ?? 0) < needed);
    if (behind.length === 0) continue;
    const named = behind.map((n) => `${n.host} pid ${n.pid} (almanac ${n.version}, ${n.knownMigration === null || n.knownMigration === undefined ? 'records no known migration: an earlier release' : `knows migrations up to ${n.knownMigration}`})`);
    blockers.push(`${label(migration)} is safe once every live node knows migration ${needed}; live node(s) still need the old shape: ${named.join(', ')}. Upgrade or stop them first`);
  }
  if (facts.rehearsalProblem !== undefined) blockers.push(facts.rehearsalProblem);
  else {
    const missing = pending.filter((m) => !facts.rehearsed.has(m.version));
    if (missing.length > 0) blockers.push(`the latest rehearsal did not include ${missing.map(label).join(', ')}; run almanac migrate rehearse again`);
  }
  return { pending, blockers };
}

function rehearsedSteps(report: string | undefined): Set<number> {
  const steps = (JSON.parse(report ?? '{}') as { steps?: { version: number }[] }).steps ?? [];
  return new Set(steps.map((s) => s.version));
}

/** The gate on SQLite. */
export function contractBlockers(db: Database.Database, migrations: readonly SqliteMigration[], identity: ReleaseIdentity, now: number): { pending: SqliteMigration[]; blockers: string[] } {
  const applied = new Set(readAppliedMigrations(db).map((m) => m.version));
  if (!migrations.some((m) => m.phase === 'contract' && !applied.has(m.version))) return { pending: [], blockers: [] };
  const problem = rehearsalProblem(db, identity.migrationHash, now);
  return contractBlockersFrom(
    {
      migrations,
      applied,
      current: currentRelease(db),
      liveNodes: liveNodes(db, now - LIVE_WITHIN_MS),
      rehearsalProblem: problem,
      rehearsed: problem === undefined ? rehearsedSteps(latestRehearsal(db, identity.migrationHash)?.report) : new Set(),
    },
    identity,
  );
}

/** The gate on PostgreSQL, read through any connection (the contract command reads it under the migration lock). */
export async function postgresContractBlockers(
  client: Parameters<typeof readPostgresApplied>[0] & Parameters<typeof pgRehearsals.latestRehearsal>[0],
  migrations: readonly PostgresMigration[],
  identity: ReleaseIdentity,
  now: number,
): Promise<{ pending: PostgresMigration[]; blockers: string[] }> {
  const applied = new Set((await readPostgresApplied(client)).map((m) => m.version));
  if (!migrations.some((m) => m.phase === 'contract' && !applied.has(m.version))) return { pending: [], blockers: [] };
  const problem = await pgRehearsals.rehearsalProblem(client, identity.migrationHash, now);
  return contractBlockersFrom(
    {
      migrations,
      applied,
      current: await pgReleaseState.currentRelease(client),
      liveNodes: await pgReleaseState.liveNodes(client, now - LIVE_WITHIN_MS),
      rehearsalProblem: problem,
      rehearsed: problem === undefined ? rehearsedSteps((await pgRehearsals.latestRehearsal(client, identity.migrationHash))?.report) : new Set(),
    },
    identity,
  );
}

function refuse(blockers: readonly string[]): never {
  throw new CliError(ExitCode.failure, `contract refused:\n  ${blockers.join('\n  ')}`);
}

function contractSqlite(options: StoreOptions, io: CliIo, migrations: readonly SqliteMigration[]): number {
  const db = openDatabaseFile(options, io);
  try {
    const identity = currentReleaseIdentity();
    const { pending, blockers } = contractBlockers(db, migrations, identity, Date.now());
    if (pending.length === 0) {
      io.stdout('no contract migration is pending\n');
      return ExitCode.ok;
    }
    if (blockers.length > 0) refuse(blockers);
    for (const migration of pending) {
      // Requests that find the store locked meanwhile answer 503 with a Retry-After from the rehearsed time.
      announceStep(db.name, { version: migration.version, name: migration.name, pid: process.pid, startedAt: Date.now(), expectedMs: rehearsedStepMs(db, identity.migrationHash, migration.version) });
      let held: { lockMs: number; waitMs: number };
      try {
        held = holdingWriteLock(db, () => performance.now(), () => {
          db.exec(migration.sql);
          recordMigration(db, migration, Date.now());
        });
      } finally {
        clearStep(db.name);
      }
      io.stdout(`${label(migration)}: applied, write lock held ${held.lockMs.toFixed(1)} ms (after waiting ${held.waitMs.toFixed(1)} ms for it)\n`);
    }
    return ExitCode.ok;
  } finally {
    db.close();
  }
}

/** Under the migration lock, so no other node migrates meanwhile; DDL with the runner's start-up lock_timeout and retries. */
async function contractPostgres(url: string, io: CliIo, migrations: readonly PostgresMigration[]): Promise<number> {
  const settings = { url };
  try {
    return await withMigrationLock(settings, async (client) => {
      const { pending, blockers } = await postgresContractBlockers(client, migrations, currentReleaseIdentity(), Date.now());
      if (pending.length === 0) {
        io.stdout('no contract migration is pending\n');
        return ExitCode.ok;
      }
      if (blockers.length > 0) refuse(blockers);
      for (const migration of pending) {
        const started = performance.now();
        await applyPostgresMigrations(client, migrations, settings, { allowed: (m) => m.version === migration.version });
        io.stdout(`${label(migration)}: applied in ${(performance.now() - started).toFixed(1)} ms (locks held at most that long)\n`);
      }
      return ExitCode.ok;
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(ExitCode.failure, `contract failed: ${(error as Error).message}`);
  }
}

export async function migrateContract(
  options: StoreOptions,
  io: CliIo,
  migrations: { readonly sqlite?: readonly SqliteMigration[]; readonly postgres?: readonly PostgresMigration[] } = {},
): Promise<number> {
  const database = storeConfig(options, io).database;
  if (isPostgresUrl(database)) return contractPostgres(database, io, migrations.postgres ?? POSTGRES_MIGRATIONS);
  return contractSqlite(options, io, migrations.sqlite ?? SQLITE_MIGRATIONS);
}
