// A real streaming replica (pg_basebackup of a throw-away cluster, hot standby): queries and multigets
// go to it only when it holds the collection at least as new as the primary does, so a client always
// reads what it has just written, even with replay paused; a replica that is down costs nothing but
// the detour to the primary.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { skipWithoutPostgres, TestPostgres } from '../../../test/support/postgres.ts';
import type { CollectionRecord } from '../types.ts';
import { PostgresStore } from './postgres-store.ts';

const skip = skipWithoutPostgres();

async function onReplica(replica: TestPostgres, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: replica.url('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

void describe('postgres read replica', { skip }, () => {
  let primary: TestPostgres;
  let replica: TestPostgres;
  let store: PostgresStore;
  let work: CollectionRecord;
  let other: CollectionRecord;

  before(async () => {
    primary = await TestPostgres.start();
    const url = await primary.createDatabase('replica');
    replica = await primary.startReplica();
    store = await PostgresStore.open({ url, replicaUrl: replica.url(new URL(url).pathname.slice(1)) });
    const user = await store.createUser({ name: 'erin', email: null, displayName: null, passwordHash: null });
    await store.ensureHomes(user.id, [
      {
        path: '/calendars/erin/',
        kind: 'calendar-home',
        children: [
          { name: 'work', kind: 'calendar', properties: [] },
          { name: 'other', kind: 'calendar', properties: [] },
        ],
      },
    ]);
    work = (await store.getCollection('/calendars/erin/work/'))!;
    other = (await store.getCollection('/calendars/erin/other/'))!;
    for (const [collection, name] of [[work, 'a.ics'], [work, 'b.ics'], [other, 'x.ics']] as const) {
      await put(collection, name, `BEGIN:VCALENDAR ${name}`);
    }
    await replica.caughtUpWith(primary);
  });
  after(async () => {
    await store.close();
    await replica.stop();
    await primary.stop();
  });

  const put = (collection: CollectionRecord, name: string, body: string): ReturnType<PostgresStore['putObject']> =>
    store.putObject({ collectionId: collection.id, name, body: Buffer.from(body), contentType: 'text/calendar', metadata: { uid: name, component: 'VEVENT' } });

  void it('serves queries and multigets from a replica that is current for the collection', async () => {
    const before = store.replicaStats()!;
    assert.deepEqual((await store.queryObjects(work.id, { componentType: 'VEVENT' })).map((o) => o.name), ['a.ics', 'b.ics']);
    const bodies = await store.getObjectsWithBodies(work.id, ['b.ics']);
    assert.equal(Buffer.from(bodies[0]!.body).toString(), 'BEGIN:VCALENDAR b.ics');
    assert.deepEqual(store.replicaStats(), { replica: before.replica + 2, primary: before.primary });
  });

  void it('answers what the client has just written from the primary while the replica has not replayed it', async () => {
    await onReplica(replica, 'SELECT pg_wal_replay_pause()');
    try {
      const written = await put(work, 'fresh.ics', 'BEGIN:VCALENDAR fresh');
      const before = store.replicaStats()!;
      const listed = await store.queryObjects(work.id, {});
      assert.deepEqual(listed.map((o) => o.name), ['a.ics', 'b.ics', 'fresh.ics'], 'the write just acknowledged is there');
      const [fresh] = await store.getObjectsWithBodies(work.id, ['fresh.ics']);
      assert.equal(fresh?.etag, written.object.etag);
      // A collection nobody wrote to since the pause is still current on the replica.
      assert.deepEqual((await store.queryObjects(other.id, {})).map((o) => o.name), ['x.ics']);
      assert.deepEqual(store.replicaStats(), { replica: before.replica + 1, primary: before.primary + 2 });
    } finally {
      await onReplica(replica, 'SELECT pg_wal_replay_resume()');
    }
    await replica.caughtUpWith(primary);
    const before = store.replicaStats()!;
    assert.deepEqual((await store.queryObjects(work.id, {})).map((o) => o.name), ['a.ics', 'b.ics', 'fresh.ics']);
    assert.equal(store.replicaStats()?.replica, before.replica + 1, 'caught up, the replica serves the collection again');
  });

  void it('answers from the primary, not with a 503, while the replica is down', async () => {
    await replica.suspend();
    try {
      const before = store.replicaStats()!;
      assert.deepEqual((await store.queryObjects(work.id, {})).map((o) => o.name), ['a.ics', 'b.ics', 'fresh.ics']);
      assert.equal((await store.listSearchIndex(other.id)).length, 1);
      assert.equal(store.replicaStats()?.primary, before.primary + 2);
    } finally {
      await replica.resume();
    }
  });
});
