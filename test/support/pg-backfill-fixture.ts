// The PostgreSQL side of the backfill tests, twin of backfill-fixture.ts: the items table, a database
// seeded with it, the completeness check, and the child process they kill (the backfill itself:
// items-backfill.ts).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readBackfill } from '../../src/store/postgres/backfill.ts';
import { applyMigrations, readAppliedMigrations, withMigrationLock, type PostgresMigration } from '../../src/store/postgres/migrator.ts';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations/index.ts';
import { ITEMS_BACKFILL, startChildScript, type BackfillChild } from './items-backfill.ts';

export const PG_ITEMS_TABLE: PostgresMigration = {
  version: 901,
  name: 'test-items',
  phase: 'expand',
  sql: 'CREATE TABLE items (id bigint PRIMARY KEY, source text NOT NULL, derived text, touched integer NOT NULL DEFAULT 0);',
};

// The shipped backfills are left out so each runner here runs only the test's own.
export const PG_FIXTURE_MIGRATIONS: readonly PostgresMigration[] = [...POSTGRES_MIGRATIONS.filter((m) => m.phase !== 'backfill'), PG_ITEMS_TABLE, ITEMS_BACKFILL];

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** A database with every expand applied, `rows` items and the backfill still pending. */
export async function seedItems(url: string, rows: number): Promise<void> {
  await withMigrationLock({ url }, (client) => applyMigrations(client, PG_FIXTURE_MIGRATIONS.filter((m) => m.phase === 'expand'), { url }));
  const client = await connect(url);
  try {
    await client.query("INSERT INTO items (id, source) SELECT i, 'item-' || i FROM generate_series(1, $1) AS i", [rows]);
  } finally {
    await client.end();
  }
}

/** Every row derived exactly once, and the migration recorded as applied. */
export async function assertComplete(url: string, rows: number): Promise<void> {
  const client = await connect(url);
  try {
    const counts = (await client.query<{ touched: number; n: string }>('SELECT touched, count(*) AS n FROM items GROUP BY touched')).rows;
    assert.deepEqual(counts.map((c) => ({ touched: c.touched, n: Number(c.n) })), [{ touched: 1, n: rows }], 'every row was done exactly once');
    const wrong = (await client.query<{ n: string }>('SELECT count(*) AS n FROM items WHERE derived IS DISTINCT FROM upper(source)')).rows[0];
    assert.equal(Number(wrong?.n), 0);
    assert.ok((await readAppliedMigrations(client)).some((m) => m.version === ITEMS_BACKFILL.version), 'the backfill is recorded as applied');
    const progress = await readBackfill(client, ITEMS_BACKFILL.version);
    assert.equal(progress?.state, 'done');
    assert.equal(progress.rowsDone, rows);
  } finally {
    await client.end();
  }
}

const CHILD = fileURLToPath(new URL('./pg-backfill-child.ts', import.meta.url));

export function startChild(url: string, node: string, perRowMs: number): BackfillChild {
  return startChildScript(CHILD, [url, node, String(perRowMs)]);
}
