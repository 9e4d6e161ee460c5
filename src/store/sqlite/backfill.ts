// One batch of a backfill and its checkpoint (DESIGN.md §6): rows after the checkpoint are read in key
// order, their new values written and the checkpoint moved in ONE immediate transaction, so a kill -9
// at any moment leaves either the whole batch and its checkpoint or neither. Also the checkpoint
// table's reads and writes that other processes use: progress, pause/resume, which node runs it.
// Synchronous; the event-loop scheduling lives in ./backfill-runner.ts. Must not import DAV or HTTP.
import type Database from 'better-sqlite3';
import { etaSeconds, type BackfillProgress, type BackfillState, type BatchResult } from '../backfill-engine.ts';
import { holdingWriteLock, recordMigration, type BackfillDefinition, type SqliteMigration } from './migrator.ts';


/** Also created by migration 0008; here too so a tool can pause a backfill on any schema. */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS migration_backfills (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, paused INTEGER NOT NULL DEFAULT 0,
  last_key INTEGER, rows_done INTEGER NOT NULL DEFAULT 0, rows_total INTEGER NOT NULL DEFAULT 0,
  batches INTEGER NOT NULL DEFAULT 0, batch_size INTEGER NOT NULL, rows_per_second REAL,
  longest_lock_ms REAL NOT NULL DEFAULT 0, throttled INTEGER NOT NULL DEFAULT 0, owner TEXT,
  owner_heartbeat_at INTEGER, started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER) STRICT`;

export type { BackfillProgress, BackfillState, BatchResult } from '../backfill-engine.ts';

interface ProgressRow {
  version: number; name: string; state: string; paused: number; last_key: number | null; rows_done: number; rows_total: number;
  batches: number; batch_size: number; rows_per_second: number | null; longest_lock_ms: number; throttled: number;
  owner: string | null; owner_heartbeat_at: number | null; started_at: number; updated_at: number; finished_at: number | null;
}

export function ensureBackfillTable(db: Database.Database): void {
  db.exec(CREATE_TABLE);
}

function hasTable(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'migration_backfills'").get() !== undefined;
}

function toProgress(row: ProgressRow): BackfillProgress {
  const state: BackfillState = row.state === 'done' ? 'done' : row.paused === 1 ? 'paused' : 'running';
  return {
    version: row.version,
    name: row.name,
    state,
    paused: row.paused === 1,
    lastKey: row.last_key,
    rowsDone: row.rows_done,
    rowsTotal: row.rows_total,
    batches: row.batches,
    batchSize: row.batch_size,
    rowsPerSecond: row.rows_per_second,
    longestLockMs: row.longest_lock_ms,
    throttled: row.throttled === 1,
    owner: row.owner,
    ownerHeartbeatAt: row.owner_heartbeat_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    etaSeconds: etaSeconds(state, row.rows_done, row.rows_total, row.rows_per_second),
  };
}

export function readBackfill(db: Database.Database, version: number): BackfillProgress | undefined {
  if (!hasTable(db)) return undefined;
  const row = db.prepare('SELECT * FROM migration_backfills WHERE version = ?').get(version) as ProgressRow | undefined;
  return row === undefined ? undefined : toProgress(row);
}

export function listBackfills(db: Database.Database): BackfillProgress[] {
  if (!hasTable(db)) return [];
  return (db.prepare('SELECT * FROM migration_backfills ORDER BY version').all() as ProgressRow[]).map(toProgress);
}

/**
 * Sets or clears the pause flag the runner polls between batches. A flag set before the backfill
 * started is kept (a row in state 'pending'), so an operator can hold a backfill back in advance.
 */
export function setBackfillPaused(db: Database.Database, migrations: readonly SqliteMigration[], paused: boolean, now: number): number[] {
  ensureBackfillTable(db);
  return db
    .transaction(() => {
      const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
      const touched: number[] = [];
      // Backfills already started, whichever release declared them.
      for (const row of db.prepare("SELECT version FROM migration_backfills WHERE state <> 'done'").all() as { version: number }[]) {
        db.prepare('UPDATE migration_backfills SET paused = ?, updated_at = ? WHERE version = ?').run(paused ? 1 : 0, now, row.version);
        touched.push(row.version);
      }
      for (const m of migrations) {
        if (touched.includes(m.version)) continue;
        if (m.backfill === undefined || applied.has(m.version)) continue;
        db.prepare(
          `INSERT INTO migration_backfills (version, name, state, paused, batch_size, started_at, updated_at) VALUES (?, ?, 'pending', ?, 0, ?, ?)
           ON CONFLICT (version) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`,
        ).run(m.version, m.name, paused ? 1 : 0, now, now);
        touched.push(m.version);
      }
      return touched;
    })
    .immediate();
}

/**
 * Makes `node` the one runner of this backfill (DESIGN.md §6: only one node runs it), unless another
 * node claimed it and beat within `staleAfterMs`. Counts the rows left on a first claim.
 */
export function claimBackfill(db: Database.Database, migration: SqliteMigration, node: string, now: number, staleAfterMs: number, initialBatchSize: number): BackfillProgress | undefined {
  const definition = requireBackfill(migration);
  ensureBackfillTable(db);
  const read = (): ProgressRow | undefined => db.prepare('SELECT * FROM migration_backfills WHERE version = ?').get(migration.version) as ProgressRow | undefined;
  const takenByOther = (row: ProgressRow | undefined): boolean =>
    row !== undefined && row.owner !== null && row.owner !== node && row.owner_heartbeat_at !== null && row.owner_heartbeat_at > now - staleAfterMs && row.state !== 'done';
  if (takenByOther(read())) return undefined;
  // Counted before taking the write lock: a count over a million rows would hold it past the budget.
  // Rows left after the checkpoint, plus those done: the total moves only when rows are added.
  const left = (db.prepare(`SELECT count(*) AS n FROM ${definition.table} WHERE ${definition.key} > ?`).get(read()?.last_key ?? -Infinity) as { n: number }).n;
  return db
    .transaction(() => {
      const existing = read();
      if (takenByOther(existing)) return undefined;
      if (existing === undefined) {
        db.prepare(
          `INSERT INTO migration_backfills (version, name, state, batch_size, rows_total, owner, owner_heartbeat_at, started_at, updated_at)
           VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
        ).run(migration.version, migration.name, initialBatchSize, left, node, now, now, now);
      } else {
        db.prepare(
          `UPDATE migration_backfills SET state = CASE state WHEN 'done' THEN 'done' ELSE 'running' END, owner = ?, owner_heartbeat_at = ?,
           rows_total = rows_done + ?, batch_size = CASE WHEN batch_size > 0 THEN batch_size ELSE ? END, updated_at = ? WHERE version = ?`,
        ).run(node, now, left, initialBatchSize, now, migration.version);
      }
      return toProgress(db.prepare('SELECT * FROM migration_backfills WHERE version = ?').get(migration.version) as ProgressRow);
    })
    .immediate();
}

function requireBackfill(migration: SqliteMigration): BackfillDefinition {
  if (migration.backfill === undefined) throw new Error(`migration ${migration.version}-${migration.name} declares no backfill`);
  return migration.backfill;
}

export interface BatchOptions {
  readonly node: string;
  readonly batchSize: number;
  readonly nextBatchSize?: number;
  readonly rowsPerSecond?: number | null;
  readonly throttled?: boolean;
  readonly clock?: () => number;
  readonly now?: () => number;
}

/** Same row as read before the lock: every column equal (blobs byte for byte). */
function sameRow(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>, columns: readonly string[]): boolean {
  return columns.every((c) => {
    const x = a[c];
    const y = b[c];
    return x instanceof Uint8Array && y instanceof Uint8Array ? Buffer.compare(x, y) === 0 : x === y;
  });
}

/**
 * Runs one batch: reads up to `batchSize` rows after the checkpoint, writes `derive`'s values, moves
 * the checkpoint; a short batch means the end, and then the migration is recorded as applied in the
 * same transaction. Refuses to run (returns rows 0) when another node owns the backfill.
 *
 * `derive` (for 0010: parsing iCalendar) runs BEFORE the write lock, on a snapshot read; inside the
 * lock the batch's key range is read again and only rows that changed meanwhile are derived again,
 * so the lock is held for reading and writing, not for the parsing. (At 1M objects on a busy 2-core
 * machine, parsing inside the lock made single batches hold it over 300 ms.)
 */
export function runBatch(db: Database.Database, migration: SqliteMigration, options: BatchOptions): BatchResult {
  const definition = requireBackfill(migration);
  const clock = options.clock ?? (() => performance.now());
  const now = options.now ?? Date.now;
  const columnList = [...new Set([definition.key, ...definition.columns])];
  const columns = columnList.join(', ');
  const checkpointOf = db.prepare('SELECT state, paused, last_key, owner FROM migration_backfills WHERE version = ?');
  type Checkpoint = { state: string; paused: number; last_key: number | null; owner: string | null };
  const select = db.prepare(`SELECT ${columns} FROM ${definition.table} WHERE ${definition.key} > ? ORDER BY ${definition.key} LIMIT ?`);
  const reread = db.prepare(`SELECT ${columns} FROM ${definition.table} WHERE ${definition.key} > ? AND ${definition.key} <= ? ORDER BY ${definition.key}`);

  // Outside the lock: the rows after the checkpoint as they are now, and their derived values.
  const before = checkpointOf.get(migration.version) as Checkpoint | undefined;
  const ahead = before === undefined || before.state === 'done' || before.owner !== options.node || before.paused === 1 ? [] : (select.all(before.last_key ?? -Infinity, options.batchSize) as Record<string, unknown>[]);
  const derivedAhead = new Map(ahead.map((row) => [row[definition.key] as number, { row, values: definition.derive(row) }]));

  let updates: Map<string, Database.Statement> | undefined;
  const result = holdingWriteLock(db, clock, (): Omit<BatchResult, 'lockMs' | 'waitMs'> => {
      const checkpoint = checkpointOf.get(migration.version) as Checkpoint | undefined;
      if (checkpoint === undefined) throw new Error(`backfill ${migration.version} was never claimed`);
      if (checkpoint.state === 'done') return { rows: 0, done: true, lastKey: checkpoint.last_key, paused: false };
      if (checkpoint.owner !== options.node) return { rows: 0, done: false, lastKey: checkpoint.last_key, paused: checkpoint.paused === 1 };
      if (checkpoint.paused === 1) return { rows: 0, done: false, lastKey: checkpoint.last_key, paused: true };
      // The same key range as read before the lock (or a fresh read if the checkpoint moved meanwhile);
      // a full batch, so a short one still means the end.
      const from = checkpoint.last_key ?? -Infinity;
      const lastAhead = ahead.at(-1)?.[definition.key] as number | undefined;
      const prepared = checkpoint.last_key === (before?.last_key ?? null) && ahead.length === options.batchSize && lastAhead !== undefined;
      const rows = (prepared ? reread.all(from, lastAhead) : select.all(from, options.batchSize)) as Record<string, unknown>[];
      updates ??= new Map();
      for (const row of rows) {
        const early = derivedAhead.get(row[definition.key] as number);
        const values = early !== undefined && sameRow(early.row, row, columnList) ? early.values : definition.derive(row);
        if (values === undefined) continue;
        const names = Object.keys(values);
        if (names.length === 0) continue;
        const signature = names.join(',');
        let update = updates.get(signature);
        if (update === undefined) {
          const into = definition.into;
          update =
            into === undefined
              ? db.prepare(`UPDATE ${definition.table} SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE ${definition.key} = ?`)
              : into.replace === true
                ? db.prepare(`INSERT OR REPLACE INTO ${into.table} (${names.join(', ')}, ${into.key}) VALUES (${names.map(() => '?').join(', ')}, ?)`)
                : db.prepare(
                    `INSERT INTO ${into.table} (${names.join(', ')}, ${into.key}) VALUES (${names.map(() => '?').join(', ')}, ?)
                     ON CONFLICT (${into.key}) DO UPDATE SET ${names.map((n) => `${n} = excluded.${n}`).join(', ')}`,
                  );
          updates.set(signature, update);
        }
        update.run(...names.map((n) => values[n] ?? null), row[definition.key]);
      }
      const last = rows.at(-1);
      const lastKey = last === undefined ? checkpoint.last_key : (last[definition.key] as number);
      // A re-read range ends at the last key read before the lock, so it is never "short" by itself.
      const done = prepared ? false : rows.length < options.batchSize;
      const at = now();
      db.prepare(
        `UPDATE migration_backfills SET last_key = ?, rows_done = rows_done + ?, rows_total = max(rows_total, rows_done + ?), batches = batches + 1,
         batch_size = ?, rows_per_second = coalesce(?, rows_per_second), throttled = ?, owner_heartbeat_at = ?, updated_at = ?,
         state = ?, finished_at = ? WHERE version = ?`,
      ).run(
        lastKey,
        rows.length,
        rows.length,
        options.nextBatchSize ?? options.batchSize,
        options.rowsPerSecond ?? null,
        options.throttled === true ? 1 : 0,
        at,
        at,
        done ? 'done' : 'running',
        done ? at : null,
        migration.version,
      );
      if (done) recordMigration(db, migration, at);
      return { rows: rows.length, done, lastKey, paused: false };
  });
  return { ...result.value, lockMs: result.lockMs, waitMs: result.waitMs };
}

/** Gives up this node's claim (a clean stop), so the next node takes over at once instead of after the stale time. */
export function releaseBackfill(db: Database.Database, version: number, node: string): void {
  db.prepare('UPDATE migration_backfills SET owner = NULL, owner_heartbeat_at = NULL WHERE version = ? AND owner = ?').run(version, node);
}

/** Records the longest lock seen and the latest rate; outside the batch so it never lengthens it. */
export function noteBatchStats(db: Database.Database, version: number, longestLockMs: number, rowsPerSecond: number | null, throttled: boolean, node: string, now: number): void {
  db.prepare(
    `UPDATE migration_backfills SET longest_lock_ms = max(longest_lock_ms, ?), rows_per_second = coalesce(?, rows_per_second), throttled = ?,
     owner_heartbeat_at = ?, updated_at = ? WHERE version = ? AND owner = ?`,
  ).run(longestLockMs, rowsPerSecond, throttled ? 1 : 0, now, now, version, node);
}

/**
 * Runs a backfill to its end synchronously (empty databases, tools, tests, the rehearsal copy):
 * the same batches and checkpoints as the background runner, without yielding between them.
 */
export function runBackfillToEnd(db: Database.Database, migration: SqliteMigration, options: { readonly batchSize?: number; readonly node?: string; readonly onBatch?: (batch: BatchResult) => void } = {}): void {
  const node = options.node ?? 'inline';
  const batchSize = options.batchSize ?? 500;
  if (claimBackfill(db, migration, node, Date.now(), 0, batchSize) === undefined) throw new Error(`backfill ${migration.version} is owned by another node`);
  db.prepare('UPDATE migration_backfills SET paused = 0 WHERE version = ?').run(migration.version);
  for (;;) {
    const batch = runBatch(db, migration, { node, batchSize });
    options.onBatch?.(batch);
    if (batch.done) return;
  }
}
