// The expected-release guard at start (DESIGN.md §6): an empty database gets the schema, the release
// that last ran is expected, any other release runs no DDL until an operator expects it — and then
// only its expand migrations — and a node serves on an older schema only if its code can.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './migrations/index.ts';
import type { SqliteMigration } from './migrator.ts';
import { databaseBytes, recordRehearsal } from './rehearsals.ts';
import { DATABASE_FILE, SqliteStore } from './sqlite-store.ts';

const NEXT: SqliteMigration = { version: 99, name: 'next-feature', phase: 'expand', sql: 'CREATE TABLE next_feature (id INTEGER PRIMARY KEY) STRICT;' };
const V1 = { version: '1.0.0', migrationHash: 'hash-one' };
const V2 = { version: '2.0.0', migrationHash: 'hash-two' };

function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-guard-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** The record `almanac migrate rehearse` leaves: a passing rehearsal of this migration set on data this size. */
function recordPassingRehearsal(dir: string, release: { version: string; migrationHash: string }, createdAt: number): void {
  const db = new Database(join(dir, DATABASE_FILE));
  try {
    const report = JSON.stringify({ steps: [] });
    recordRehearsal(db, { ...release, passed: true, dataBytes: databaseBytes(db), objectRows: 0, longestLockMs: 1, estimatedMs: 10, report, createdAt });
  } finally {
    db.close();
  }
}

async function openClose(dir: string, options: Partial<Parameters<typeof SqliteStore.open>[0]>): Promise<ReturnType<SqliteStore['releaseRecords']> & { guard: ReturnType<SqliteStore['releaseGuard']>; ready: Awaited<ReturnType<SqliteStore['readiness']>> }> {
  const store = SqliteStore.open({ dataDir: dir, ...options });
  try {
    return { ...store.releaseRecords(), guard: store.releaseGuard(), ready: await store.readiness() };
  } finally {
    await store.close();
  }
}

void describe('expected-release guard', () => {
  void it('creates the schema in an empty database and treats the release that ran as expected', () =>
    withDir(async (dir) => {
      const first = await openClose(dir, { release: V1 });
      assert.equal(first.guard.unexpected, undefined);
      assert.deepEqual(first.current, V1);
      assert.deepEqual(first.pending, []);
      const again = await openClose(dir, { release: V1 });
      assert.equal(again.guard.unexpected, undefined, 'a restart of the same release raises no alarm');
    }));

  void it('runs no DDL for an unexpected release, serves on the old schema, and migrates once expected', () =>
    withDir(async (dir) => {
      await openClose(dir, { release: V1 });
      const unexpected = await openClose(dir, { release: V2, migrations: [...SQLITE_MIGRATIONS, NEXT] });
      assert.match(unexpected.guard.unexpected ?? '', /not expected/u);
      assert.deepEqual(unexpected.pending, [99], 'the new migration did not run');
      assert.deepEqual(unexpected.current, V1, 'the database still records the old release');
      assert.equal(unexpected.ready.ready, true);
      assert.match(unexpected.ready.reason, /without migrating/u);

      const store = SqliteStore.open({ dataDir: dir, release: V1 });
      store.expectRelease({ ...V2, windowFrom: null, windowUntil: null, approvedBy: 'ops', reason: 'test', createdAt: Date.now() });
      await store.close();
      const unrehearsed = await openClose(dir, { release: V2, migrations: [...SQLITE_MIGRATIONS, NEXT] });
      assert.match(unrehearsed.guard.unexpected ?? '', /expected, but migration set hash-two was never rehearsed/u);
      assert.deepEqual(unrehearsed.pending, [99], 'no DDL without a rehearsal');

      recordPassingRehearsal(dir, V2, Date.now() - 8 * 24 * 3600 * 1000);
      const stale = await openClose(dir, { release: V2, migrations: [...SQLITE_MIGRATIONS, NEXT] });
      assert.match(stale.guard.unexpected ?? '', /older than 7 days/u, 'the rehearsal aged between expect and start');
      assert.deepEqual(stale.pending, [99]);

      recordPassingRehearsal(dir, V2, Date.now());
      const expected = await openClose(dir, { release: V2, migrations: [...SQLITE_MIGRATIONS, NEXT] });
      assert.equal(expected.guard.unexpected, undefined);
      assert.deepEqual(expected.pending, []);
      assert.ok(expected.applied.includes(99));
      assert.deepEqual(expected.current, V2);
    }));

  void it('refuses a release whose hash or window does not match its expectation', () =>
    withDir(async (dir) => {
      const store = SqliteStore.open({ dataDir: dir, release: V1 });
      store.expectRelease({ version: V2.version, migrationHash: 'other', windowFrom: null, windowUntil: null, approvedBy: 'ops', reason: null, createdAt: 0 });
      store.expectRelease({ version: '3.0.0', migrationHash: 'h3', windowFrom: 0, windowUntil: 1000, approvedBy: 'ops', reason: null, createdAt: 0 });
      await store.close();
      assert.match((await openClose(dir, { release: V2 })).guard.unexpected ?? '', /hash differs/u);
      assert.match((await openClose(dir, { release: { version: '3.0.0', migrationHash: 'h3' } })).guard.unexpected ?? '', /outside its window/u);
    }));

  void it('stays unready, without DDL, when the schema is older than the code can serve on', () =>
    withDir(async (dir) => {
      await openClose(dir, { migrations: SQLITE_MIGRATIONS.slice(0, 2) });
      const result = await openClose(dir, { release: V2, minimumSchemaVersion: 4 });
      assert.equal(result.guard.canServe, false);
      assert.equal(result.ready.ready, false);
      assert.deepEqual(result.applied, [1, 2], 'nothing was migrated');
    }));
});
