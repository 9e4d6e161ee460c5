// Which store the in-process tests run on: SQLite in a temporary folder by default, or PostgreSQL when
// ALMANAC_TEST_STORE=postgres — then one throw-away cluster per test process (started on first use,
// stopped after the file's tests) and one fresh database per store. Lets the same scenario files
// prove that a client observes the same thing on both stores.
import { after } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { ReleaseStore } from '../../src/store/release-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { TestPostgres } from './postgres.ts';

export type TestBackend = 'sqlite' | 'postgres';

export function testBackend(): TestBackend {
  return process.env.ALMANAC_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
}

/** `skip` option for a test that reaches into SQLite's file itself. */
export function sqliteOnly(why: string): string | false {
  return testBackend() === 'sqlite' ? false : `SQLite only: ${why}`;
}

let cluster: Promise<TestPostgres> | undefined;
if (testBackend() === 'postgres') {
  after(async () => {
    if (cluster !== undefined) await (await cluster).stop();
  });
}

/** A fresh database URL when the tests run on PostgreSQL; undefined on SQLite (the data folder is the store). */
export async function testDatabaseUrl(): Promise<string | undefined> {
  if (testBackend() === 'sqlite') return undefined;
  cluster ??= TestPostgres.start();
  return (await cluster).createDatabase('server');
}

export interface TestStore {
  readonly store: Store & ReleaseStore;
  /** Another store on the same data, as a second process (or node) would open it. */
  openAnother(): Promise<Store & ReleaseStore>;
  dispose(): Promise<void>;
}

export async function openTestStore(dataDir: string): Promise<TestStore> {
  if (testBackend() === 'sqlite') {
    const store = SqliteStore.open({ dataDir });
    return { store, openAnother: () => Promise.resolve(SqliteStore.open({ dataDir })), dispose: () => store.close() };
  }
  cluster ??= TestPostgres.start();
  const pg = await cluster;
  const url = await pg.createDatabase('scenario');
  const store = await PostgresStore.open({ url });
  return {
    store,
    openAnother: () => PostgresStore.open({ url }),
    dispose: async () => {
      await store.close();
      await pg.dropDatabase(url);
    },
  };
}
