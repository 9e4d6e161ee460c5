// Rehearsal records on PostgreSQL (DESIGN.md §6): reports of `almanac migrate rehearse` kept in the
// live database, tied to the migration set's hash and the database size, and the same freshness rule
// as on SQLite (../sqlite/rehearsals.ts) that `almanac release expect` applies. Must not import DAV or HTTP.
import type pg from 'pg';
import { REHEARSAL_MAX_AGE_MS, REHEARSAL_MAX_GROWTH, type RehearsalRecord } from '../sqlite/rehearsals.ts';

type Queryable = Pick<pg.ClientBase, 'query'>;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS migration_rehearsals (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, migration_hash text NOT NULL, version text NOT NULL, passed boolean NOT NULL,
  data_bytes bigint NOT NULL, object_rows bigint NOT NULL, longest_lock_ms double precision NOT NULL,
  estimated_ms double precision NOT NULL, report text NOT NULL, created_at bigint NOT NULL)`;

/** The live database's size in bytes, what a rehearsal's freshness is compared with. */
export async function databaseBytes(client: Queryable): Promise<number> {
  return Number((await client.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]?.n ?? 0);
}

export async function recordRehearsal(client: Queryable, record: Omit<RehearsalRecord, 'id'>): Promise<number> {
  await client.query(CREATE_TABLE);
  const result = await client.query<{ id: string }>(
    `INSERT INTO migration_rehearsals (migration_hash, version, passed, data_bytes, object_rows, longest_lock_ms, estimated_ms, report, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [record.migrationHash, record.version, record.passed, record.dataBytes, record.objectRows, record.longestLockMs, record.estimatedMs, record.report, record.createdAt],
  );
  return Number(result.rows[0]?.id);
}

export async function latestRehearsal(client: Queryable, migrationHash: string): Promise<RehearsalRecord | undefined> {
  const present = (await client.query<{ present: boolean }>("SELECT to_regclass('migration_rehearsals') IS NOT NULL AS present")).rows[0]?.present === true;
  if (!present) return undefined;
  const row = (
    await client.query<{ id: string; migration_hash: string; version: string; passed: boolean; data_bytes: string; object_rows: string; longest_lock_ms: number; estimated_ms: number; report: string; created_at: string }>(
      'SELECT * FROM migration_rehearsals WHERE migration_hash = $1 ORDER BY created_at DESC, id DESC LIMIT 1',
      [migrationHash],
    )
  ).rows[0];
  if (row === undefined) return undefined;
  return {
    id: Number(row.id),
    migrationHash: row.migration_hash,
    version: row.version,
    passed: row.passed,
    dataBytes: Number(row.data_bytes),
    objectRows: Number(row.object_rows),
    longestLockMs: row.longest_lock_ms,
    estimatedMs: row.estimated_ms,
    report: row.report,
    createdAt: Number(row.created_at),
  };
}

/** Why the latest rehearsal of this migration set does not vouch for it now, or undefined when it does. */
export async function rehearsalProblem(client: Queryable, migrationHash: string, now: number): Promise<string | undefined> {
  const latest = await latestRehearsal(client, migrationHash);
  const rerun = `run \`almanac migrate rehearse --database …\` with this release's binary`;
  if (latest === undefined) return `migration set ${migrationHash.slice(0, 12)} was never rehearsed on this database; ${rerun}`;
  if (!latest.passed) return `the latest rehearsal of migration set ${migrationHash.slice(0, 12)} failed (longest lock ${latest.longestLockMs.toFixed(1)} ms); fix the migration and ${rerun}`;
  if (now - latest.createdAt > REHEARSAL_MAX_AGE_MS) return `the latest rehearsal is older than ${REHEARSAL_MAX_AGE_MS / 86_400_000} days; ${rerun}`;
  const bytes = await databaseBytes(client);
  if (bytes > latest.dataBytes * REHEARSAL_MAX_GROWTH) return `the database grew from ${latest.dataBytes} to ${bytes} bytes since the rehearsal; ${rerun}`;
  return undefined;
}

/**
 * At start, for an expected release that still has migrations to run: the rehearsal that
 * `almanac release expect` required must still vouch for them, or the release runs no DDL.
 */
export async function unrehearsedBecause(client: Queryable, release: { version: string; migrationHash: string }, pendingMigrations: number, now: number): Promise<string | undefined> {
  if (pendingMigrations === 0) return undefined;
  const problem = await rehearsalProblem(client, release.migrationHash, now);
  return problem === undefined ? undefined : `release ${release.version} is expected, but ${problem}`;
}
