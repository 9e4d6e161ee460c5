// One batch of a backfill and its checkpoint on PostgreSQL (DESIGN.md §6), the driver the shared
// engine (../backfill-engine.ts) runs in the background of one node: the rows after the checkpoint
// are read in key order and share-locked (a concurrent PUT of one of them waits for this batch, so
// the value written is never derived from a body that was just replaced), their new values written
// and the checkpoint moved in ONE transaction; a kill -9 at any moment leaves either the whole batch
// and its checkpoint or neither. The claim (which node runs it) is the checkpoint row's owner and
// heartbeat, changed only under that row's lock, so several nodes sharing the database agree on one.
// Also progress, pause/resume for other processes. Must not import DAV or HTTP.
import pg from 'pg';
import { BackfillEngine, etaSeconds, type BackfillDriver, type BackfillEngineOptions, type BackfillProgress, type BackfillRunSummary, type BackfillState, type BatchResult } from '../backfill-engine.ts';
import { migrationChecksum, type BackfillDefinition } from '../sqlite/migrator.ts';
import { readAppliedMigrations, type PostgresMigration } from './migrator.ts';
import { TYPES } from './session.ts';

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Also created by migration 0004; here too so a tool can pause a backfill on any schema. */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS migration_backfills (
  version integer PRIMARY KEY, name text NOT NULL, state text NOT NULL, paused boolean NOT NULL DEFAULT false,
  last_key bigint, rows_done bigint NOT NULL DEFAULT 0, rows_total bigint NOT NULL DEFAULT 0,
  batches integer NOT NULL DEFAULT 0, batch_size integer NOT NULL, rows_per_second double precision,
  longest_lock_ms double precision NOT NULL DEFAULT 0, throttled boolean NOT NULL DEFAULT false, owner text,
  owner_heartbeat_at bigint, started_at bigint NOT NULL, updated_at bigint NOT NULL, finished_at bigint)`;

export const BACKFILL_TABLE_SQL = CREATE_TABLE;

interface ProgressRow {
  version: number; name: string; state: string; paused: boolean; last_key: number | null; rows_done: number; rows_total: number;
  batches: number; batch_size: number; rows_per_second: number | null; longest_lock_ms: number; throttled: boolean;
  owner: string | null; owner_heartbeat_at: number | null; started_at: number; updated_at: number; finished_at: number | null;
}

/** Rows per multi-row upsert statement (PostgreSQL allows 65,535 parameters per statement). */
const UPSERT_CHUNK = 1000;

/** bigint columns arrive as strings on a client without the store's type parsers (tools, tests). */
function num(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function toProgress(raw: ProgressRow): BackfillProgress {
  const row = {
    ...raw,
    last_key: num(raw.last_key),
    rows_done: Number(raw.rows_done),
    rows_total: Number(raw.rows_total),
    owner_heartbeat_at: num(raw.owner_heartbeat_at),
    started_at: Number(raw.started_at),
    updated_at: Number(raw.updated_at),
    finished_at: num(raw.finished_at),
  };
  const state: BackfillState = row.state === 'done' ? 'done' : row.paused ? 'paused' : row.state === 'pending' ? 'pending' : 'running';
  return {
    version: row.version,
    name: row.name,
    state,
    paused: row.paused,
    lastKey: row.last_key,
    rowsDone: row.rows_done,
    rowsTotal: row.rows_total,
    batches: row.batches,
    batchSize: row.batch_size,
    rowsPerSecond: row.rows_per_second,
    longestLockMs: row.longest_lock_ms,
    throttled: row.throttled,
    owner: row.owner,
    ownerHeartbeatAt: row.owner_heartbeat_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    etaSeconds: etaSeconds(state, row.rows_done, row.rows_total, row.rows_per_second),
  };
}

async function hasTable(client: Queryable): Promise<boolean> {
  const result = await client.query<{ present: boolean }>("SELECT to_regclass('migration_backfills') IS NOT NULL AS present");
  return result.rows[0]?.present === true;
}

export async function readBackfill(client: Queryable, version: number): Promise<BackfillProgress | undefined> {
  if (!(await hasTable(client))) return undefined;
  const row = (await client.query<ProgressRow>('SELECT * FROM migration_backfills WHERE version = $1', [version])).rows[0];
  return row === undefined ? undefined : toProgress(row);
}

export async function listBackfills(client: Queryable): Promise<BackfillProgress[]> {
  if (!(await hasTable(client))) return [];
  return (await client.query<ProgressRow>('SELECT * FROM migration_backfills ORDER BY version')).rows.map(toProgress);
}

async function inTransaction<T>(client: Queryable, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const value = await fn();
    await client.query('COMMIT');
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The backfills this release declares that are not recorded as applied. */
export async function pendingBackfills(client: Queryable, migrations: readonly PostgresMigration[]): Promise<PostgresMigration[]> {
  const applied = new Set((await readAppliedMigrations(client)).map((m) => m.version));
  return migrations.filter((m) => m.phase === 'backfill' && m.backfill !== undefined && !applied.has(m.version));
}

/**
 * Sets or clears the pause flag the runner reads in each batch. A flag set before the backfill
 * started is kept (a row in state 'pending'), so an operator can hold a backfill back in advance.
 */
export async function setBackfillPaused(client: Queryable, migrations: readonly PostgresMigration[], paused: boolean, now: number): Promise<number[]> {
  await client.query(CREATE_TABLE);
  const applied = new Set((await readAppliedMigrations(client)).map((m) => m.version));
  return inTransaction(client, async () => {
    const touched = (
      await client.query<{ version: number }>("UPDATE migration_backfills SET paused = $1, updated_at = $2 WHERE state <> 'done' RETURNING version", [paused, now])
    ).rows.map((r) => r.version);
    for (const m of migrations) {
      if (touched.includes(m.version) || m.backfill === undefined || applied.has(m.version)) continue;
      await client.query(
        `INSERT INTO migration_backfills (version, name, state, paused, batch_size, started_at, updated_at) VALUES ($1, $2, 'pending', $3, 0, $4, $4)
         ON CONFLICT (version) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`,
        [m.version, m.name, paused, now],
      );
      touched.push(m.version);
    }
    return touched.sort((a, b) => a - b);
  });
}

function requireBackfill(migration: PostgresMigration): BackfillDefinition {
  if (migration.backfill === undefined) throw new Error(`migration ${migration.version}-${migration.name} declares no backfill`);
  return migration.backfill;
}

/**
 * Makes `node` the one runner of this backfill, unless another node claimed it and beat within
 * `staleAfterMs`. Decided under the checkpoint row's lock, so of two nodes racing exactly one wins.
 */
export async function claimBackfill(client: Queryable, migration: PostgresMigration, node: string, now: number, staleAfterMs: number, initialBatchSize: number): Promise<BackfillProgress | undefined> {
  const definition = requireBackfill(migration);
  await client.query(CREATE_TABLE);
  const takenByOther = (row: ProgressRow | undefined): boolean =>
    row !== undefined && row.owner !== null && row.owner !== node && row.owner_heartbeat_at !== null && Number(row.owner_heartbeat_at) > now - staleAfterMs && row.state !== 'done';
  const before = (await client.query<ProgressRow>('SELECT * FROM migration_backfills WHERE version = $1', [migration.version])).rows[0];
  if (takenByOther(before)) return undefined;
  // Counted outside the transaction: it holds no lock a writer waits for, however long it takes.
  const left = Number(
    (await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${definition.table} WHERE ${definition.key} > $1`, [before?.last_key ?? Number.MIN_SAFE_INTEGER])).rows[0]?.n ?? 0,
  );
  return inTransaction(client, async () => {
    await client.query(
      `INSERT INTO migration_backfills (version, name, state, batch_size, started_at, updated_at) VALUES ($1, $2, 'pending', $3, $4, $4) ON CONFLICT (version) DO NOTHING`,
      [migration.version, migration.name, initialBatchSize, now],
    );
    const existing = (await client.query<ProgressRow>('SELECT * FROM migration_backfills WHERE version = $1 FOR UPDATE', [migration.version])).rows[0];
    if (takenByOther(existing)) return undefined;
    const row = (
      await client.query<ProgressRow>(
        `UPDATE migration_backfills SET state = CASE state WHEN 'done' THEN 'done' ELSE 'running' END, owner = $1, owner_heartbeat_at = $2,
         rows_total = rows_done + $3, batch_size = CASE WHEN batch_size > 0 THEN batch_size ELSE $4 END, updated_at = $2 WHERE version = $5 RETURNING *`,
        [node, now, left, initialBatchSize, migration.version],
      )
    ).rows[0];
    return row === undefined ? undefined : toProgress(row);
  });
}

async function writeValues(client: Queryable, definition: BackfillDefinition, rows: readonly Record<string, unknown>[]): Promise<void> {
  const groups = new Map<string, { names: string[]; entries: { key: unknown; values: Readonly<Record<string, unknown>> }[] }>();
  for (const row of rows) {
    const values = definition.derive(row);
    if (values === undefined) continue;
    const names = Object.keys(values);
    if (names.length === 0) continue;
    const signature = names.join(',');
    const group = groups.get(signature) ?? { names, entries: [] };
    group.entries.push({ key: row[definition.key], values });
    groups.set(signature, group);
  }
  for (const { names, entries } of groups.values()) {
    const into = definition.into;
    if (into === undefined) {
      for (const entry of entries) {
        await client.query(`UPDATE ${definition.table} SET ${names.map((n, i) => `${n} = $${i + 1}`).join(', ')} WHERE ${definition.key} = $${names.length + 1}`, [
          ...names.map((n) => entry.values[n] ?? null),
          entry.key,
        ]);
      }
      continue;
    }
    for (let start = 0; start < entries.length; start += UPSERT_CHUNK) {
      const chunk = entries.slice(start, start + UPSERT_CHUNK);
      const width = names.length + 1;
      const tuples = chunk.map((_, r) => `(${Array.from({ length: width }, (__, c) => `$${r * width + c + 1}`).join(', ')})`);
      const parameters = chunk.flatMap((entry) => [...names.map((n) => entry.values[n] ?? null), entry.key]);
      await client.query(
        `INSERT INTO ${into.table} (${names.join(', ')}, ${into.key}) VALUES ${tuples.join(', ')}
         ON CONFLICT (${into.key}) DO UPDATE SET ${names.map((n) => `${n} = excluded.${n}`).join(', ')}`,
        parameters,
      );
    }
  }
}

/**
 * Runs one batch: reads (and share-locks) up to `batchSize` rows after the checkpoint, writes
 * `derive`'s values, moves the checkpoint; a short batch means the end, and then the migration is
 * recorded as applied in the same transaction. Refuses to run (rows 0) when another node owns it.
 */
export async function runBatch(
  client: Queryable,
  migration: PostgresMigration,
  options: { readonly node: string; readonly batchSize: number; readonly rowsPerSecond?: number | null; readonly throttled?: boolean; readonly clock?: () => number; readonly now?: () => number },
): Promise<BatchResult> {
  const definition = requireBackfill(migration);
  const clock = options.clock ?? (() => performance.now());
  const now = options.now ?? Date.now;
  const columns = [...new Set([definition.key, ...definition.columns])].join(', ');
  const begun = clock();
  const result = await inTransaction(client, async (): Promise<Omit<BatchResult, 'lockMs' | 'waitMs'>> => {
    const checkpoint = (
      await client.query<{ state: string; paused: boolean; last_key: number | null; owner: string | null }>(
        'SELECT state, paused, last_key, owner FROM migration_backfills WHERE version = $1 FOR UPDATE',
        [migration.version],
      )
    ).rows[0];
    if (checkpoint === undefined) throw new Error(`backfill ${migration.version} was never claimed`);
    checkpoint.last_key = num(checkpoint.last_key);
    if (checkpoint.state === 'done') return { rows: 0, done: true, lastKey: checkpoint.last_key, paused: false };
    if (checkpoint.owner !== options.node || checkpoint.paused) return { rows: 0, done: false, lastKey: checkpoint.last_key, paused: checkpoint.paused };
    const rows = (
      await client.query<Record<string, unknown>>(
        `SELECT ${columns} FROM ${definition.table} WHERE ${definition.key} > $1 ORDER BY ${definition.key} LIMIT $2 FOR SHARE`,
        [checkpoint.last_key ?? Number.MIN_SAFE_INTEGER, options.batchSize],
      )
    ).rows;
    await writeValues(client, definition, rows);
    const last = rows.at(-1);
    const lastKey = last === undefined ? checkpoint.last_key : Number(last[definition.key]);
    const done = rows.length < options.batchSize;
    const at = now();
    await client.query(
      `UPDATE migration_backfills SET last_key = $1, rows_done = rows_done + $2, rows_total = greatest(rows_total, rows_done + $2), batches = batches + 1,
       batch_size = $3, rows_per_second = coalesce($4, rows_per_second), throttled = $5, owner_heartbeat_at = $6, updated_at = $6,
       state = $7, finished_at = $8 WHERE version = $9`,
      [lastKey, rows.length, options.batchSize, options.rowsPerSecond ?? null, options.throttled === true, at, done ? 'done' : 'running', done ? at : null, migration.version],
    );
    if (done) {
      await client.query('INSERT INTO schema_migrations (version, name, phase, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)', [
        migration.version, migration.name, migration.phase, migrationChecksum(migration), at,
      ]);
    }
    return { rows: rows.length, done, lastKey, paused: false };
  });
  const end = clock();
  // Counted from BEGIN to the end of COMMIT (a little more than the rows are share-locked): the
  // longest a PUT of one of them may wait for this batch.
  return { ...result, lockMs: end - begun, waitMs: 0 };
}

/** Gives up this node's claim (a clean stop), so the next node takes over at once. */
export async function releaseBackfill(client: Queryable, version: number, node: string): Promise<void> {
  await client.query('UPDATE migration_backfills SET owner = NULL, owner_heartbeat_at = NULL WHERE version = $1 AND owner = $2', [version, node]);
}

/** Records the longest lock seen and the latest rate; outside the batch so it never lengthens it. */
export async function noteBatchStats(client: Queryable, version: number, longestLockMs: number, rowsPerSecond: number | null, throttled: boolean, node: string, now: number): Promise<void> {
  await client.query(
    `UPDATE migration_backfills SET longest_lock_ms = greatest(longest_lock_ms, $1), rows_per_second = coalesce($2, rows_per_second), throttled = $3,
     owner_heartbeat_at = $4, updated_at = $4 WHERE version = $5 AND owner = $6`,
    [longestLockMs, rowsPerSecond, throttled, now, version, node],
  );
}

/** Runs a backfill to its end at once (an empty database, tools, tests): the same batches and checkpoints. */
export async function runBackfillToEnd(client: Queryable, migration: PostgresMigration, options: { readonly batchSize?: number; readonly node?: string } = {}): Promise<void> {
  const node = options.node ?? 'inline';
  const batchSize = options.batchSize ?? 500;
  if ((await claimBackfill(client, migration, node, Date.now(), 0, batchSize)) === undefined) throw new Error(`backfill ${migration.version} is owned by another node`);
  await client.query('UPDATE migration_backfills SET paused = false WHERE version = $1', [migration.version]);
  for (;;) {
    if ((await runBatch(client, migration, { node, batchSize })).done) return;
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // lock_timeout, deadlock (a batch against a multi-object write), serialization: the batch rolled back whole.
  return code === '55P03' || code === '40P01' || code === '40001';
}

export function postgresBackfillDriver(client: Queryable): BackfillDriver<PostgresMigration> {
  return {
    claim: (migration, node, now, staleAfterMs, initialBatchSize) => claimBackfill(client, migration, node, now, staleAfterMs, initialBatchSize),
    read: (version) => readBackfill(client, version),
    runBatch: (migration, request) => runBatch(client, migration, request),
    noteStats: (version, longest, rate, throttled, node, now) => noteBatchStats(client, version, longest, rate, throttled, node, now),
    release: (version, node) => releaseBackfill(client, version, node),
    isBusy,
  };
}

/** The connection a background runner uses: its own, with a short lock_timeout fixed at start-up. */
export async function backfillConnection(url: string, lockTimeoutMs = 1000): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, options: `-c lock_timeout=${lockTimeoutMs} -c statement_timeout=60000`, application_name: 'almanac-backfill', types: TYPES });
  client.on('error', () => undefined); // a lost connection surfaces as the failing query's error
  await client.connect();
  return client;
}

/** The engine over one PostgreSQL connection: what a serving node runs in the background. */
export class PostgresBackfillRunner {
  private readonly engine: BackfillEngine<PostgresMigration>;
  private readonly client: Queryable;
  private readonly migrations: readonly PostgresMigration[];

  constructor(client: Queryable, migrations: readonly PostgresMigration[], options: BackfillEngineOptions) {
    this.client = client;
    this.migrations = migrations;
    this.engine = new BackfillEngine(postgresBackfillDriver(client), { maxBatchSize: 5000, ...options });
  }

  run(): Promise<BackfillRunSummary> {
    return this.engine.run(() => pendingBackfills(this.client, this.migrations));
  }

  stop(): Promise<void> {
    return this.engine.stop();
  }
}
