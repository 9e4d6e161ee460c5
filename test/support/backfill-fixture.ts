// A small table and a backfill migration over it, shared by the backfill tests and the child process
// they kill: `derived` is the upper-cased `source`, and `touched` counts how often a row's batch was
// committed (deliberately not idempotent, so a row done twice shows as 2).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { readBackfill, runBackfillToEnd } from '../../src/store/sqlite/backfill.ts';
import { applyMigrations, readAppliedMigrations, type SqliteMigration } from '../../src/store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';

export const ITEMS_TABLE: SqliteMigration = {
  version: 901,
  name: 'test-items',
  phase: 'expand',
  sql: 'CREATE TABLE items (id INTEGER PRIMARY KEY, source TEXT NOT NULL, derived TEXT, touched INTEGER NOT NULL DEFAULT 0) STRICT;',
};

/** Busy-waits this long per row, so a batch takes measurable time (the child process sets it). */
let perRowMs = 0;
export function setPerRowMs(ms: number): void {
  perRowMs = ms;
}

export const ITEMS_BACKFILL: SqliteMigration = {
  version: 902,
  name: 'test-items-derived',
  phase: 'backfill',
  sql: '-- backfill items.derived = upper(source); revision 1',
  backfill: {
    table: 'items',
    key: 'id',
    columns: ['source', 'touched'],
    derive: (row) => {
      if (perRowMs > 0) {
        const until = performance.now() + perRowMs;
        while (performance.now() < until);
      }
      return { derived: String(row.source).toUpperCase(), touched: Number(row.touched) + 1 };
    },
  },
};

// The shipped backfills are left out so each runner here runs only the test's own.
export const FIXTURE_MIGRATIONS: readonly SqliteMigration[] = [...SQLITE_MIGRATIONS.filter((m) => m.phase !== 'backfill'), ITEMS_TABLE, ITEMS_BACKFILL];

export function openDatabase(dir: string): Database.Database {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'almanac.sqlite3'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 2000');
  return db;
}

/** A database with every expand applied, `rows` items and the backfill still pending. */
export function seedItems(dir: string, rows: number): void {
  const db = openDatabase(dir);
  applyMigrations(db, FIXTURE_MIGRATIONS.filter((m) => m.phase === 'expand'), Date.now, runBackfillToEnd);
  const insert = db.prepare('INSERT INTO items (source) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`item-${i}`);
  })();
  db.close();
}

const CHILD = fileURLToPath(new URL('./backfill-child.ts', import.meta.url));

/** Every row derived exactly once, and the migration recorded as applied. */
export function assertComplete(dir: string, rows: number): void {
  const db = openDatabase(dir);
  try {
    const counts = db.prepare('SELECT touched, count(*) AS n FROM items GROUP BY touched').all() as { touched: number; n: number }[];
    assert.deepEqual(counts, [{ touched: 1, n: rows }], 'every row was done exactly once');
    const wrong = db.prepare('SELECT count(*) AS n FROM items WHERE derived IS NOT upper(source)').get() as { n: number };
    assert.equal(wrong.n, 0);
    assert.ok(readAppliedMigrations(db).some((m) => m.version === ITEMS_BACKFILL.version), 'the backfill is recorded as applied');
    const progress = readBackfill(db, ITEMS_BACKFILL.version);
    assert.equal(progress?.state, 'done');
    assert.equal(progress.rowsDone, rows);
  } finally {
    db.close();
  }
}

export function startChild(dir: string, node: string, perRowMs: number): { lines: AsyncIterator<string>; kill: () => void; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CHILD, dir, node, String(perRowMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { lines: createInterface({ input: child.stdout })[Symbol.asyncIterator](), kill: () => child.kill('SIGKILL'), exited };
}

export async function nextEvent(lines: AsyncIterator<string>): Promise<{ kind: string; done?: number }> {
  const line = await lines.next();
  if (line.done === true) throw new Error('the child ended early');
  return JSON.parse(line.value) as { kind: string; done?: number };
}

