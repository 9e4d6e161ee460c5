// The PostgreSQL twin of backfill-fixture.ts: a small table and a backfill over it, shared by the
// PostgreSQL backfill tests and the child process they kill. `derived` is the upper-cased `source`,
// and `touched` counts how often a row's batch was committed (deliberately not idempotent, so a row
// done twice shows as 2).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readBackfill } from '../../src/store/postgres/backfill.ts';
import { applyMigrations, readAppliedMigrations, withMigrationLock, type PostgresMigration } from '../../src/store/postgres/migrator.ts';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations/index.ts';

export const PG_ITEMS_TABLE: PostgresMigration = {
  version: 901,
  name: 'test-items',
  phase: 'expand',
  sql: 'CREATE TABLE items (id bigint PRIMARY KEY, source text NOT NULL, derived text, touched integer NOT NULL DEFAULT 0);',
};

/** Busy-waits this long per row, so a batch takes measurable time (the child process sets it). */
let perRowMs = 0;
export function setPerRowMs(ms: number): void {
  perRowMs = ms;
}

/** Throws on this key (a bug in derive) to show a failed batch leaves nothing behind. */
let failOn: number | undefined;
export function setFailOn(key: number | undefined): void {
  failOn = key;
}

export const PG_ITEMS_BACKFILL: PostgresMigration = {
  version: 902,
  name: 'test-items-derived',
  phase: 'backfill',
  sql: '-- backfill items.derived = upper(source); revision 1',
  backfill: {
    table: 'items',
    key: 'id',
    columns: ['source', 'touched'],
    derive: (row) => {
      if (Number(row.id) === failOn) throw new Error(`derive failed on ${failOn}`);
      if (perRowMs > 0) {
        const until = performance.now() + perRowMs;
        while (performance.now() < until);
      }
      return { derived: String(row.source).toUpperCase(), touched: Number(row.touched) + 1 };
    },
  },
};

// The shipped backfills are left out so each runner here runs only the test's own.
export const PG_FIXTURE_MIGRATIONS: readonly PostgresMigration[] = [...POSTGRES_MIGRATIONS.filter((m) => m.phase !== 'backfill'), PG_ITEMS_TABLE, PG_ITEMS_BACKFILL];

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
    assert.ok((await readAppliedMigrations(client)).some((m) => m.version === PG_ITEMS_BACKFILL.version), 'the backfill is recorded as applied');
    const progress = await readBackfill(client, PG_ITEMS_BACKFILL.version);
    assert.equal(progress?.state, 'done');
    assert.equal(progress.rowsDone, rows);
  } finally {
    await client.end();
  }
}

const CHILD = fileURLToPath(new URL('./pg-backfill-child.ts', import.meta.url));

export function startChild(url: string, node: string, perRowMs: number): { lines: AsyncIterator<string>; kill: () => void; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CHILD, url, node, String(perRowMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { lines: createInterface({ input: child.stdout })[Symbol.asyncIterator](), kill: () => child.kill('SIGKILL'), exited };
}

export async function nextEvent(lines: AsyncIterator<string>): Promise<{ kind: string; done?: number }> {
  const line = await lines.next();
  if (line.done === true) throw new Error('the child ended early');
  return JSON.parse(line.value) as { kind: string; done?: number };
}
