// The GiST index of object time bounds (0010): time-range candidates are exactly the objects whose
// stored bounds meet the range, before the index exists and after, while objects are written,
// updated, moved, copied and deleted (one collection at once too), and the index is what is read.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { assertCandidates, random, randomBounds, writeEveryWay, type Bounds, type Model } from '../../../test/support/time-bounds-model.ts';
import { skipWithoutPostgres, TestPostgres } from '../../../test/support/postgres.ts';
import { POSTGRES_MIGRATIONS } from './migrations/index.ts';
import { OBJECT_TIME_BOX } from './migrations/0010-object-time-box.ts';
import { PostgresStore } from './postgres-store.ts';

const skip = skipWithoutPostgres();
let cluster: TestPostgres | undefined;
after(async () => {
  await cluster?.stop();
});

const RELEASE = { version: '1.0.0', migrationHash: 'hash' };

void describe('objects_time_box on PostgreSQL', { skip }, () => {
  void it('gives exactly the objects whose bounds meet the range, before the index and through it, through every kind of write', { timeout: 120_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('timebox');
    const next = random(20261125);
    const model: Model = new Map();
    let serial = 0;
    const put = async (store: PostgresStore, collectionId: number, name: string, bounds: Bounds): Promise<void> => {
      serial += 1;
      await store.putObject({ collectionId, name, body: Buffer.from(`${name} ${serial}`), contentType: 'text/calendar', metadata: { uid: `${name}-${serial}`, ...bounds } });
      model.get(collectionId)?.set(name, bounds);
    };
    let calendars: number[];
    const before = await PostgresStore.open({ url, release: RELEASE, migrations: POSTGRES_MIGRATIONS.filter((m) => m.version < 10) });
    try {
      const user = await before.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
      await before.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: ['a', 'b', 'c'].map((name) => ({ name, kind: 'calendar' as const, properties: [] })) }]);
      calendars = await Promise.all(['a', 'b', 'c'].map(async (name) => (await before.getCollection(`/calendars/alice/${name}/`))!.id));
      for (const id of calendars) model.set(id, new Map());
      for (let i = 0; i < 240; i++) await put(before, calendars[i % 3]!, `o${i}.ics`, randomBounds(next));
      await assertCandidates(before, model, next, 'before the index');
    } finally {
      await before.close();
    }

    const current = await PostgresStore.open({ url, release: RELEASE });
    try {
      // The plan of a candidate read uses the index (a scan of the table would answer the same, slowly).
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('SET enable_seqscan = off');
        const plan = await client.query(`EXPLAIN SELECT id FROM objects WHERE ${OBJECT_TIME_BOX} && box(point($1::float8, $2::float8), point($1::float8, $3::float8))`, [calendars[0], 0, 1e13]);
        assert.match(plan.rows.map((row: Record<string, string>) => Object.values(row)[0]).join('\n'), /objects_time_box/u);
      } finally {
        await client.end();
      }
      await assertCandidates(current, model, next, 'through the index');
      await writeEveryWay(current, model, calendars, (collectionId, name, bounds) => put(current, collectionId, name, bounds), next);
    } finally {
      await current.close();
    }
  });
});
