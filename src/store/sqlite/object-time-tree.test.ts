// The R*Tree of object time bounds (0014/0015): time-range candidates are exactly the objects whose
// stored bounds meet the range, on the schema before the tree, between its expand and its backfill,
// and after, while objects are written, updated, moved, copied and deleted (one collection at once too).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { assertCandidates, random, randomBounds, writeEveryWay, type Bounds, type Model } from '../../../test/support/time-bounds-model.ts';
import { SQLITE_MIGRATIONS } from './migrations/index.ts';
import { DATABASE_FILE, SqliteStore } from './sqlite-store.ts';

function treeSize(dir: string): { tree: number; objects: number } {
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    const tree = (db.prepare('SELECT count(*) AS n FROM object_time_tree').get() as { n: number }).n;
    const objects = (db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
    return { tree, objects };
  } finally {
    db.close();
  }
}

void describe('object_time_tree', () => {
  void it('gives exactly the objects whose bounds meet the range, before the tree, before its backfill, and after, through every kind of write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-time-tree-'));
    const next = random(20261125);
    const model: Model = new Map();
    let serial = 0;
    const put = async (store: SqliteStore, collectionId: number, name: string, bounds: Bounds): Promise<void> => {
      serial += 1;
      await store.putObject({ collectionId, name, body: Buffer.from(`${name} ${serial}`), contentType: 'text/calendar', metadata: { uid: `${name}-${serial}`, ...bounds } });
      model.get(collectionId)?.set(name, bounds);
    };
    try {
      let calendars: number[] = [];
      let home = 0;
      const before = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 14) });
      try {
        const user = await before.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
        await before.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: ['a', 'b', 'c'].map((name) => ({ name, kind: 'calendar' as const, properties: [] })) }]);
        home = (await before.getCollection('/calendars/alice/'))!.id;
        calendars = await Promise.all(['a', 'b', 'c'].map(async (name) => (await before.getCollection(`/calendars/alice/${name}/`))!.id));
        for (const id of calendars) model.set(id, new Map());
        for (let i = 0; i < 240; i++) await put(before, calendars[i % 3]!, `o${i}.ics`, randomBounds(next));
        await assertCandidates(before, model, next, 'before the tree');
      } finally {
        await before.close();
      }

      const expanded = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 15) });
      try {
        assert.equal(treeSize(dir).tree, 0, 'the expand creates the tree empty');
        for (let i = 240; i < 270; i++) await put(expanded, calendars[0]!, `o${i}.ics`, randomBounds(next));
        for (let i = 0; i < 30; i += 3) await put(expanded, calendars[0]!, `o${i}.ics`, randomBounds(next)); // updates
        await assertCandidates(expanded, model, next, 'between expand and backfill');
        assert.equal(treeSize(dir).tree, 40, 'the triggers enter what is written meanwhile, once each');
      } finally {
        await expanded.close();
      }

      const current = SqliteStore.open({ dataDir: dir });
      try {
        assert.ok(current.releaseRecords().applied.includes(15), 'the backfill ran');
        assert.deepEqual(treeSize(dir), { tree: 270, objects: 270 });
        await assertCandidates(current, model, next, 'after the backfill');
        await writeEveryWay(current, model, calendars, (collectionId, name, bounds) => put(current, collectionId, name, bounds), next);
        const left = [...model.values()].reduce((sum, objects) => sum + objects.size, 0);
        assert.deepEqual(treeSize(dir), { tree: left, objects: left }, 'one entry per object, none left behind');
        assert.ok(home > 0);
      } finally {
        await current.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
