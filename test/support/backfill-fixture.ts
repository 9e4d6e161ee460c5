// The SQLite side of the backfill tests: the items table, a database seeded with it, the completeness
// check, and the child process they kill (the backfill itself: items-backfill.ts).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { readBackfill, runBackfillToEnd } from '../../src/store/sqlite/backfill.ts';
import { applyMigrations, readAppliedMigrations, type SqliteMigration } from '../../src/store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';
import { ITEMS_BACKFILL, startChildScript, type BackfillChild } from './items-backfill.ts';

export const ITEMS_TABLE: SqliteMigration = {
  version: 901,
  name: 'test-items',
  phase: 'expand',
  sql: 'CREATE TABLE items (id INTEGER PRIMARY KEY, source TEXT NOT NULL, derived TEXT, touched INTEGER NOT NULL DEFAULT 0) STRICT;',
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

export function startChild(dir: string, node: string, perRowMs: number): BackfillChild {
  return startChildScript(CHILD, [dir, node, String(perRowMs)]);
}
