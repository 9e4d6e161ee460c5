// `almanac migrate status|pause|resume`: what each migration phase is doing, read from the database
// itself so it works beside a running server (its own connection, no schema change), and the pause
// flag the background runner polls between batches. Formatting helpers for the progress lines.
// SQLite (--data) or PostgreSQL (--database postgres://…): the same facts from the same table shape.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { isPostgresUrl } from '../store/open.ts';
import * as pgBackfill from '../store/postgres/backfill.ts';
import { readAppliedMigrations as readPostgresApplied } from '../store/postgres/migrator.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import { TYPES } from '../store/postgres/session.ts';
import { listBackfills, setBackfillPaused, type BackfillProgress } from '../store/sqlite/backfill.ts';
import { readAppliedMigrations, type SqliteMigration } from '../store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import { DATABASE_FILE } from '../store/sqlite/sqlite-store.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { json } from './format.ts';
import type { CliIo } from './io.ts';
import { storeConfig, type StoreOptions } from './store.ts';

export interface MigrationStatus {
  readonly applied: number[];
  readonly pending: { readonly version: number; readonly name: string; readonly phase: string }[];
  readonly backfills: BackfillProgress[];
}

/** Opens the configured database file without migrating it: status and pause must never change the schema. */
export function openDatabaseFile(options: StoreOptions, io: CliIo): Database.Database {
  const file = join(storeConfig(options, io).data, DATABASE_FILE);
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (error) {
    throw new CliError(ExitCode.failure, `cannot open ${file}: ${(error as Error).message}`);
  }
  db.pragma('busy_timeout = 2000');
  return db;
}

export function migrationStatus(db: Database.Database, migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS): MigrationStatus {
  const applied = readAppliedMigrations(db).map((m) => m.version);
  const done = new Set(applied);
  return {
    applied,
    pending: migrations.filter((m) => !done.has(m.version)).map((m) => ({ version: m.version, name: m.name, phase: m.phase })),
    backfills: listBackfills(db),
  };
}

/** A plain connection to the configured PostgreSQL database; no migration, no release guard. */
export async function withPostgresClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'almanac-cli', connectionTimeoutMillis: 5000, types: TYPES });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new CliError(ExitCode.failure, `cannot connect to PostgreSQL: ${(error as Error).message}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Applied and pending migrations and the backfills of whichever store the options name. */
export async function readMigrationStatus(options: StoreOptions, io: CliIo): Promise<MigrationStatus> {
  const database = storeConfig(options, io).database;
  if (isPostgresUrl(database)) {
    return withPostgresClient(database, async (client) => {
      const applied = (await readPostgresApplied(client)).map((m) => m.version);
      const done = new Set(applied);
      return {
        applied,
        pending: POSTGRES_MIGRATIONS.filter((m) => !done.has(m.version)).map((m) => ({ version: m.version, name: m.name, phase: m.phase })),
        backfills: await pgBackfill.listBackfills(client),
      };
    });
  }
  const db = openDatabaseFile(options, io);
  try {
    return migrationStatus(db);
  } finally {
    db.close();
  }
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'unknown';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function bar(done: number, total: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const full = Math.round(share * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(share * 100).toFixed(1).padStart(5)}%`;
}

/** One backfill as a line: a bar on a terminal, the same facts without it otherwise. */
export function backfillLine(b: BackfillProgress, tty: boolean): string {
  const name = `${String(b.version).padStart(4, '0')}-${b.name}`;
  const state = b.state === 'running' && b.throttled ? 'running (throttled: request latency is up)' : b.state;
  const counts = `${b.rowsDone.toLocaleString('en')}/${b.rowsTotal.toLocaleString('en')} rows`;
  const rate = b.rowsPerSecond === null ? 'rate unknown' : `${Math.round(b.rowsPerSecond).toLocaleString('en')} rows/s`;
  const eta = b.state === 'done' ? `finished` : `ETA ${duration(b.etaSeconds)}`;
  const lock = `longest lock ${b.longestLockMs.toFixed(1)} ms, batch ${b.batchSize}`;
  return `${name}  ${state}\n  ${tty ? `${bar(b.rowsDone, b.rowsTotal)}  ` : ''}${counts}  ${rate}  ${eta}  ${lock}${b.owner === null ? '' : `  node ${b.owner.slice(0, 8)}`}\n`;
}

export async function migrateStatus(options: StoreOptions & { readonly json?: boolean }, io: CliIo): Promise<number> {
  const status = await readMigrationStatus(options, io);
  if (options.json === true) {
    io.stdout(json(status));
    return ExitCode.ok;
  }
  const lines = [`applied: ${status.applied.join(', ') || 'none'}`];
  lines.push(`pending: ${status.pending.map((p) => `${p.version}-${p.name} (${p.phase})`).join(', ') || 'none'}`);
  io.stdout(`${lines.join('\n')}\n`);
  const started = new Set(status.backfills.map((b) => b.version));
  for (const b of status.backfills) io.stdout(backfillLine(b, io.isTTY));
  for (const p of status.pending.filter((m) => m.phase === 'backfill' && !started.has(m.version))) {
    io.stdout(`${String(p.version).padStart(4, '0')}-${p.name}  not started (a serving node of the expected release runs it)\n`);
  }
  return ExitCode.ok;
}

export async function migratePause(options: StoreOptions, io: CliIo, paused: boolean): Promise<number> {
  const database = storeConfig(options, io).database;
  let touched: number[];
  if (isPostgresUrl(database)) {
    touched = await withPostgresClient(database, (client) => pgBackfill.setBackfillPaused(client, POSTGRES_MIGRATIONS, paused, Date.now()));
  } else {
    const db = openDatabaseFile(options, io);
    try {
      touched = setBackfillPaused(db, SQLITE_MIGRATIONS, paused, Date.now());
    } finally {
      db.close();
    }
  }
  io.stdout(
    touched.length === 0
      ? 'no backfill is pending\n'
      : `${paused ? 'paused' : 'resumed'} backfill ${touched.join(', ')}${paused ? ' (the runner stops before its next batch)' : ''}\n`,
  );
  return ExitCode.ok;
}
