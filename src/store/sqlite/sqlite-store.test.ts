// The SQLite store against the conformance suite, plus what only SQLite can show: lock contention
// from another process becomes StoreUnavailable within the budget, and a listing that disagrees with
// the transactional counters is refused instead of served short.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { runStoreConformance } from '../conformance.ts';
import { StoreInconsistent, StoreUnavailable } from '../errors.ts';
import { MigrationHistoryError } from './migrator.ts';
import { SQLITE_MIGRATIONS } from './migrations/index.ts';
import { DATABASE_FILE, SqliteStore } from './sqlite-store.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'almanac-sqlite-'));
}

runStoreConformance('sqlite', () => {
  const dir = tempDir();
  let store = SqliteStore.open({ dataDir: dir });
  return Promise.resolve({
    get store() {
      return store;
    },
    reopen: async () => {
      await store.close();
      store = SqliteStore.open({ dataDir: dir });
      return store;
    },
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});

async function withFreshStore(fn: (store: SqliteStore, dir: string) => Promise<void>, lockBudgetMs = 200): Promise<void> {
  const dir = tempDir();
  const store = SqliteStore.open({ dataDir: dir, lockBudgetMs });
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void it('reports a write lock held by another process as StoreUnavailable, then recovers', () =>
  withFreshStore(async (store, dir) => {
    const user = await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
    await store.ensureHomes(user.id, [{ path: '/files/alice/', kind: 'files-home', children: [] }]);
    const files = (await store.getCollection('/files/alice/'))!;
    const other = new Database(join(dir, DATABASE_FILE));
    other.exec('BEGIN IMMEDIATE');
    try {
      await assert.rejects(
        store.putObject({ collectionId: files.id, name: 'x', body: Buffer.from('x'), contentType: 'text/plain' }),
        (error: unknown) => error instanceof StoreUnavailable && error.retryAfterSeconds >= 1,
      );
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const { created } = await store.putObject({ collectionId: files.id, name: 'x', body: Buffer.from('x'), contentType: 'text/plain' });
    assert.equal(created, true);
  }));

void it('refuses a listing shorter than the collection’s counters', () =>
  withFreshStore(async (store, dir) => {
    const user = await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
    await store.ensureHomes(user.id, [{ path: '/files/alice/', kind: 'files-home', children: [] }]);
    const files = (await store.getCollection('/files/alice/'))!;
    await store.putObject({ collectionId: files.id, name: 'a', body: Buffer.from('a'), contentType: 'text/plain' });
    await store.putObject({ collectionId: files.id, name: 'b', body: Buffer.from('b'), contentType: 'text/plain' });
    // Simulate rows lost behind the store's back (a half-applied migration, a bad restore).
    const other = new Database(join(dir, DATABASE_FILE));
    other.prepare("DELETE FROM objects WHERE name = 'b'").run();
    other.close();
    await assert.rejects(store.listMembers(files.id), StoreInconsistent);
  }));

void it('refuses a migration history that was edited after it was applied', () => {
  const dir = tempDir();
  try {
    SqliteStore.open({ dataDir: dir }).close().catch(() => undefined);
    const edited = SQLITE_MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    assert.throws(() => SqliteStore.open({ dataDir: dir, migrations: edited }), MigrationHistoryError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
