// The object_busy migration on PostgreSQL as a client of free-busy would see it: objects written
// before the expand are all candidates (the prefilter is not used) until the background backfill is
// applied; then only objects that may add busy time are returned, and the write path keeps the
// table right for objects written afterwards.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { skipWithoutPostgres, TestPostgres } from '../../../test/support/postgres.ts';
import pg from 'pg';
import { backfillConnection, claimBackfill, PostgresBackfillRunner, runBatch } from './backfill.ts';
import { POSTGRES_MIGRATIONS } from './migrations/index.ts';
import { PostgresStore } from './postgres-store.ts';

const skip = skipWithoutPostgres();
let cluster: TestPostgres | undefined;
after(async () => {
  await cluster?.stop();
});

const RELEASE = { version: '1.0.0', migrationHash: 'hash' };

function event(uid: string, transparent: boolean): Buffer {
  return Buffer.from(
    [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z',
      'DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'SUMMARY:x', ...(transparent ? ['TRANSP:TRANSPARENT'] : []), 'END:VEVENT', 'END:VCALENDAR', '',
    ].join('\r\n'),
  );
}

async function names(store: PostgresStore, collectionId: number, mayBeBusy: boolean): Promise<string[]> {
  return (await store.queryObjects(collectionId, { componentType: 'VEVENT', mayBeBusy })).map((o) => o.name);
}

void describe('object_busy on PostgreSQL', { skip }, () => {
  void it('narrows free-busy candidates only once the backfill over older objects is applied', { timeout: 60_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('busy');
    const old = await PostgresStore.open({ url, release: RELEASE, migrations: POSTGRES_MIGRATIONS.filter((m) => m.version <= 4) });
    let collectionId: number;
    try {
      const user = await old.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
      await old.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }, { name: 'other', kind: 'calendar', properties: [] }] }]);
      collectionId = (await old.getCollection('/calendars/alice/default/'))!.id;
      for (let i = 0; i < 30; i++) {
        await old.putObject({ collectionId, name: `e${String(i).padStart(2, '0')}.ics`, body: event(`u${i}`, i % 3 === 0), contentType: 'text/calendar', metadata: { uid: `u${i}`, component: 'VEVENT' } });
      }
    } finally {
      await old.close();
    }
    const all = Array.from({ length: 30 }, (_, i) => `e${String(i).padStart(2, '0')}.ics`);
    const busy = all.filter((_, i) => i % 3 !== 0);

    const store = await PostgresStore.open({ url, release: RELEASE });
    try {
      assert.deepEqual((await store.releaseRecords()).pending, [7, 9], 'expand ran at open; the backfill waits for the runner, the contract for its command');
      assert.deepEqual(await names(store, collectionId, true), all, 'before the backfill every object is a candidate');
      const client = await backfillConnection(url);
      try {
        const summary = await new PostgresBackfillRunner(client, store.migrations, { node: 'n', initialBatchSize: 7 }).run();
        assert.deepEqual(summary.completed, [7]);
        assert.ok(summary.batches >= 2, 'in several batches');
      } finally {
        await client.end();
      }
      assert.deepEqual(await names(store, collectionId, true), busy, 'transparent events are left out');
      assert.deepEqual(await names(store, collectionId, false), all, 'without the prefilter nothing changes');
      // Written after the backfill: the write path's own answer, and a changed body is looked at again.
      await store.putObject({ collectionId, name: 'new.ics', body: event('new', true), contentType: 'text/calendar', metadata: { uid: 'new', component: 'VEVENT', mayBeBusy: false } });
      await store.putObject({ collectionId, name: 'e01.ics', body: event('u1', true), contentType: 'text/calendar', metadata: { uid: 'u1', component: 'VEVENT', mayBeBusy: false } });
      await store.putObject({ collectionId, name: 'e00.ics', body: event('u0', false), contentType: 'text/calendar', metadata: { uid: 'u0', component: 'VEVENT', mayBeBusy: true } });
      assert.deepEqual(await names(store, collectionId, true), ['e00.ics', ...busy.filter((n) => n !== 'e01.ics')]);
      const other = (await store.getCollection('/calendars/alice/other/'))!.id;
      await store.copyObject(collectionId, 'e00.ics', { parentId: other, name: 'busy.ics', replace: false });
      await store.copyObject(collectionId, 'e01.ics', { parentId: other, name: 'free.ics', replace: false });
      assert.deepEqual(await names(store, other, true), ['busy.ics'], 'a copy keeps its source’s answer');
    } finally {
      await store.close();
    }
  });

  // Regression: the write path left a vCard at the trigger's -1 while the backfill writes 0 for it.
  void it('gives a contact the same busy value from the write path as from the backfill (never busy)', { timeout: 60_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('busy_card');
    const store = await PostgresStore.open({ url, release: RELEASE });
    try {
      const user = await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
      await store.ensureHomes(user.id, [{ path: '/addressbooks/alice/', kind: 'addressbook-home', children: [{ name: 'contacts', kind: 'addressbook', properties: [] }] }]);
      const book = (await store.getCollection('/addressbooks/alice/contacts/'))!.id;
      const card = Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Zoë\r\nEND:VCARD\r\n');
      const { object } = await store.putObject({ collectionId: book, name: 'c1.vcf', body: card, contentType: 'text/vcard', metadata: { uid: 'c1', component: 'VCARD' } });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const row = await client.query<{ busy: number }>('SELECT busy FROM object_busy WHERE object_id = $1', [object.id]);
        assert.equal(Number(row.rows[0]?.busy), 0);
      } finally {
        await client.end();
      }
    } finally {
      await store.close();
    }
  });

  void it('never writes a value derived from a body a concurrent PUT is replacing', { timeout: 60_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('busy_race');
    const old = await PostgresStore.open({ url, release: RELEASE, migrations: POSTGRES_MIGRATIONS.filter((m) => m.version <= 4) });
    const user = await old.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
    await old.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
    const collectionId = (await old.getCollection('/calendars/alice/default/'))!.id;
    const { object } = await old.putObject({ collectionId, name: 'a.ics', body: event('a', false), contentType: 'text/calendar', metadata: { uid: 'a', component: 'VEVENT' } });
    await old.close();
    const store = await PostgresStore.open({ url, release: RELEASE });
    await store.close();
    const backfill = POSTGRES_MIGRATIONS.find((m) => m.version === 7)!;

    // A PUT in flight: the body is replaced (now transparent) but not committed yet.
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    const runner = await backfillConnection(url, 300);
    try {
      await writer.query('BEGIN');
      await writer.query("UPDATE objects SET body = $1, etag = 'new' WHERE id = $2", [event('a', true), object.id]);
      assert.ok(await claimBackfill(runner, backfill, 'n', Date.now(), 30_000, 100));
      await assert.rejects(runBatch(runner, backfill, { node: 'n', batchSize: 100 }), (error: { code?: string }) => error.code === '55P03', 'the batch waits for the PUT, then gives up whole');
      await writer.query('COMMIT');
      assert.equal((await runBatch(runner, backfill, { node: 'n', batchSize: 100 })).done, true);
      const row = await runner.query<{ busy: number }>('SELECT busy FROM object_busy WHERE object_id = $1', [object.id]);
      assert.deepEqual(row.rows, [{ busy: 0 }], 'derived from the committed (transparent) body');
    } finally {
      await writer.end();
      await runner.end();
    }
  });
});
