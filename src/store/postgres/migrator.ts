// The PostgreSQL migration runner: the same numbered, checksummed, append-only history as the SQLite
// runner (it reuses that runner's planning and checksum, so "edited or reordered history is refused"
// means the same on both stores), applied under PostgreSQL's rules for online DDL:
// - DDL runs on its own connection whose lock_timeout is a start-up option, so no later RESET or SET
//   inside a migration can lift it; a statement that waits longer for its lock fails, the migration
//   rolls back and is retried with backoff, and request queries queued behind it wait at most that long;
// - only one node migrates at a time (a session advisory lock held for the whole run);
// - a migration marked non-transactional (CREATE INDEX CONCURRENTLY) runs statement by statement, and
//   an INVALID index a timed-out attempt left behind is dropped before the next try.
// Must not import DAV or HTTP.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { migrationChecksum, planMigrations, type AppliedMigration, type BackfillDefinition, type MigrationPhase } from '../sqlite/migrator.ts';
import { isUnavailable, TYPES, unavailable } from './session.ts';

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly phase: MigrationPhase;
  readonly sql: string;
  /** false for statements PostgreSQL refuses inside a transaction (CREATE/DROP INDEX CONCURRENTLY). */
  readonly transactional?: boolean;
  /** Only for phase 'backfill': the batched work (./backfill.ts), the same declaration as on SQLite. */
  readonly backfill?: BackfillDefinition;
  /** Only for phase 'contract': as on SQLite (SqliteMigration.safeOnceNodesKnow), in this store's numbering. */
  readonly safeOnceNodesKnow?: number;
}

/** The two-key advisory lock every node takes before it reads or changes the schema history. */
const LOCK_CLASS = 0x616c6d61; // "alma"
const LOCK_MIGRATIONS = 1;

export interface DdlSettings {
  readonly url: string;
  /** How long one DDL statement may wait for its table lock before it gives up and retries. */
  readonly lockTimeoutMs?: number;
  /** Attempts per migration (or per statement of a non-transactional one). */
  readonly attempts?: number;
  /** How long to wait for another node's migration run to finish. */
  readonly lockWaitMs?: number;
}

function isLockTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '55P03' || code === '40P01';
}

/** Opens the DDL connection (lock_timeout fixed at start-up) and runs fn holding the migration lock. */
export async function withMigrationLock<T>(settings: DdlSettings, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: settings.url,
    options: `-c lock_timeout=${settings.lockTimeoutMs ?? 2000} -c statement_timeout=0`,
    application_name: 'almanac-migrate',
    connectionTimeoutMillis: 5000,
    types: TYPES,
  });
  client.on('error', () => undefined); // a lost connection surfaces as the failing query's error
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw isUnavailable(error) ? unavailable(error) : error;
  }
  try {
    const deadline = Date.now() + (settings.lockWaitMs ?? 120_000);
    for (;;) {
      const got = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_CLASS, LOCK_MIGRATIONS]);
      if (got.rows[0]?.locked === true) break;
      if (Date.now() > deadline) throw new Error('another node kept the migration lock for too long');
      await sleep(200);
    }
    try {
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, LOCK_MIGRATIONS]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function readAppliedMigrations(client: Pick<pg.Client, 'query'>): Promise<AppliedMigration[]> {
  const exists = await client.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (exists.rows[0]?.present !== true) return [];
  const rows = await client.query<AppliedMigration>('SELECT version, name, phase, checksum FROM schema_migrations ORDER BY version');
  return rows.rows;
}

async function withRetry(settings: DdlSettings, what: string, attempt: () => Promise<void>): Promise<void> {
  const attempts = settings.attempts ?? 8;
  let delay = 100;
  for (let i = 1; ; i += 1) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (!isLockTimeout(error) || i >= attempts) {
        if (isLockTimeout(error)) throw new Error(`${what}: gave up after ${i} attempts waiting for table locks`, { cause: error });
        throw error;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

const CONCURRENT_INDEX = /CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("?[\w]+"?)/iu;

/** Drops the INVALID leftover of an interrupted CREATE INDEX CONCURRENTLY so the retry can build it. */
async function dropInvalidIndex(client: pg.Client, statement: string): Promise<void> {
  const name = CONCURRENT_INDEX.exec(statement)?.[1]?.replaceAll('"', '');
  if (name === undefined) return;
  const invalid = await client.query(
    'SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND NOT i.indisvalid',
    [name],
  );
  if (invalid.rowCount !== null && invalid.rowCount > 0) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS "${name}"`);
}

function statements(sqlText: string): string[] {
  return sqlText
    .split(/;\s*(?:\n|$)/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

async function applyOne(client: pg.Client, migration: PostgresMigration, settings: DdlSettings, now: () => number): Promise<void> {
  const record = async (): Promise<void> => {
    await client.query('INSERT INTO schema_migrations (version, name, phase, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)', [
      migration.version, migration.name, migration.phase, migrationChecksum(migration), now(),
    ]);
  };
  const label = `migration ${migration.version}-${migration.name}`;
  if (migration.transactional === false) {
    // Each statement must be idempotent (IF NOT EXISTS): a retry may follow a partial success.
    for (const statement of statements(migration.sql)) {
      await withRetry(settings, label, async () => {
        await dropInvalidIndex(client, statement);
        await client.query(statement);
      });
    }
    await record();
    return;
  }
  await withRetry(settings, label, async () => {
    await client.query('BEGIN');
    try {
      await client.query(migration.sql);
      await record();
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Applies the pending migrations that `allowed` admits, in order, on a client holding the migration
 * lock. Returns those applied. A database that already has migrations this release does not know is
 * left alone (a newer release owns the schema).
 */
export async function applyMigrations(
  client: pg.Client,
  known: readonly PostgresMigration[],
  settings: DdlSettings,
  options: {
    readonly now?: () => number;
    readonly allowed?: (migration: PostgresMigration) => boolean;
    /** Runs a backfill declared in code to its end (records it applied in its last batch). */
    readonly runBackfill?: (client: pg.Client, migration: PostgresMigration) => Promise<void>;
  } = {},
): Promise<PostgresMigration[]> {
  await withRetry(settings, 'schema_migrations', async () => {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, phase text NOT NULL, checksum text NOT NULL, applied_at bigint NOT NULL)`);
  });
  const { pending, unknown } = planMigrations(await readAppliedMigrations(client), known);
  if (unknown.length > 0) return [];
  const pendingVersions = new Set(pending.map((m) => m.version));
  const applied: PostgresMigration[] = [];
  for (const migration of known.filter((m) => pendingVersions.has(m.version))) {
    if (options.allowed !== undefined && !options.allowed(migration)) continue;
    if (migration.backfill !== undefined) {
      if (options.runBackfill === undefined) throw new Error('a backfill migration needs a backfill runner');
      await options.runBackfill(client, migration);
    } else await applyOne(client, migration, settings, options.now ?? Date.now);
    applied.push(migration);
  }
  return applied;
}
