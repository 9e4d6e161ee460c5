// The PostgreSQL store against the conformance suite, on a throw-away cluster started for this file,
// plus what only several nodes on one database can show: concurrent writers from two stores keep
// change-log positions gapless and unique and UIDs unique; an edited migration history is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipWithoutPostgres, TestPostgres } from '../../../test/support/postgres.ts';
import { runStoreConformance } from '../conformance.ts';
import { StoreUnavailable, UidConflict } from '../errors.ts';
import { MigrationHistoryError } from '../sqlite/migrator.ts';
import { POSTGRES_MIGRATIONS } from './migrations/index.ts';
import { PostgresStore } from './postgres-store.ts';

const skip = skipWithoutPostgres();
let cluster: TestPostgres | undefined;

async function ready(): Promise<TestPostgres> {
  cluster ??= await TestPostgres.start();
  return cluster;
}

if (skip === false) {
  after(async () => {
    await cluster?.stop();
  });
  runStoreConformance('postgres', async () => {
    const pg = await ready();
    const url = await pg.createDatabase('conformance');
    let store = await PostgresStore.open({ url });
    return {
      get store() {
        return store;
      },
      reopen: async () => {
        await store.close();
        store = await PostgresStore.open({ url });
        return store;
      },
      dispose: async () => {
        await store.close();
        await pg.dropDatabase(url);
      },
    };
  });
}

void describe('postgres store with several nodes', { skip }, () => {
  let url: string;
  let nodes: PostgresStore[] = [];
  before(async () => {
    url = await (await ready()).createDatabase('nodes');
    // Opened together: only one may run the migrations, the other waits for the lock and finds them applied.
    nodes = await Promise.all([PostgresStore.open({ url, poolSize: 4 }), PostgresStore.open({ url, poolSize: 4 })]);
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  void it('keeps change-log positions gapless and unique when two nodes write one collection at once', async () => {
    const [a, b] = nodes as [PostgresStore, PostgresStore];
    const user = await a.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
    await Promise.all([a, b, a, b].map((node) => node.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }])));
    const calendar = (await a.getCollection('/calendars/alice/default/'))!;
    assert.equal((await b.listMembers((await b.getCollection('/calendars/alice/'))!.id)).collections.length, 1, 'the home was created once');
    const writes = 40;
    await Promise.all(
      Array.from({ length: writes }, (_, i) =>
        (i % 2 === 0 ? a : b).putObject({ collectionId: calendar.id, name: `e${i % 10}.ics`, body: Buffer.from(`event ${i}`), contentType: 'text/calendar', metadata: { uid: `uid-${i % 10}` } }),
      ),
    );
    const log = await b.changesSince(calendar.id, 0, 1000);
    assert.deepEqual(log.changes.map((c) => c.seq), Array.from({ length: writes }, (_, i) => i + 1), 'one position per write, none twice, none skipped');
    const after = (await a.getCollection('/calendars/alice/default/'))!;
    assert.equal(after.syncSeq, writes);
    assert.equal(after.objectCount, 10);
    const page = await a.syncChanges(calendar.id, 0, null);
    assert.equal(page.objects.size, 10);
    for (const [name, object] of page.objects) {
      const body = (await b.getObjectWithBody(calendar.id, name))!;
      assert.equal(object.etag, body.etag, 'the ETag listed is the ETag of the stored body');
    }
  });

  void it('lets only one of two nodes store a UID that both try to claim under different names', async () => {
    const [a, b] = nodes as [PostgresStore, PostgresStore];
    const user = await a.createUser({ name: 'bob', email: null, displayName: null, passwordHash: null });
    await a.ensureHomes(user.id, [{ path: '/calendars/bob/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
    const calendar = (await a.getCollection('/calendars/bob/default/'))!;
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? a : b).putObject({ collectionId: calendar.id, name: `copy-${i}.ics`, body: Buffer.from(`copy ${i}`), contentType: 'text/calendar', metadata: { uid: 'contested' } }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof UidConflict));
    assert.equal((await b.listMembers(calendar.id)).objects.length, 1);
  });
});

void describe('postgres migrations', { skip }, () => {
  void it('refuses a migration history that was edited after it was applied', async () => {
    const url = await (await ready()).createDatabase('history');
    await (await PostgresStore.open({ url })).close();
    const edited = POSTGRES_MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await assert.rejects(PostgresStore.open({ url, migrations: edited }), MigrationHistoryError);
  });
});

void describe('postgres outage', { skip }, () => {
  void it('answers StoreUnavailable while PostgreSQL is down and recovers by itself when it returns', async () => {
    const pg = await ready();
    const url = await pg.createDatabase('outage');
    const store = await PostgresStore.open({ url });
    try {
      const user = await store.createUser({ name: 'carol', email: null, displayName: null, passwordHash: null });
      await store.ensureHomes(user.id, [{ path: '/files/carol/', kind: 'files-home', children: [] }]);
      const files = (await store.getCollection('/files/carol/'))!;
      await store.putObject({ collectionId: files.id, name: 'before', body: Buffer.from('1'), contentType: 'text/plain' });
      await pg.suspend();
      try {
        await assert.rejects(store.listMembers(files.id), (error: unknown) => error instanceof StoreUnavailable && error.retryAfterSeconds >= 1);
        await assert.rejects(store.putObject({ collectionId: files.id, name: 'during', body: Buffer.from('2'), contentType: 'text/plain' }), StoreUnavailable);
        const report = await store.readiness();
        assert.equal(report.ready, false);
        assert.match(report.reason, /PostgreSQL is unreachable/u);
      } finally {
        await pg.resume();
      }
      await store.putObject({ collectionId: files.id, name: 'after', body: Buffer.from('3'), contentType: 'text/plain' });
      assert.deepEqual((await store.listMembers(files.id)).objects.map((o) => o.name), ['after', 'before']);
      assert.equal((await store.readiness()).ready, true);
    } finally {
      await store.close();
    }
  });
});
