import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { UidConflict } from '../errors.ts';
import { GroupCommit } from './group-commit.ts';
import { SqliteStore } from './sqlite-store.ts';

function setup(): { db: Database.Database; commits: () => number; group: GroupCommit } {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  const inTransaction = db.transaction((fn: () => unknown) => fn());
  let commits = 0;
  const group = new GroupCommit({
    transaction: (fn) => {
      inTransaction.immediate(fn);
      commits += 1;
      return Promise.resolve();
    },
    savepoint: (fn) => inTransaction(fn),
    abortsGroup: (error) => error instanceof Error && error.message === 'abort',
  });
  return { db, commits: () => commits, group };
}

const insert = (db: Database.Database, k: string, v: number) => () => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k, v).changes;
const rows = (db: Database.Database) => (db.prepare('SELECT k, v FROM t ORDER BY k').all() as { k: string; v: number }[]).map((r) => `${r.k}=${r.v}`);

void describe('GroupCommit', () => {
  void it('commits the writes of one turn together, each with its own answer', async () => {
    const { db, commits, group } = setup();
    const answers = await Promise.all(['a', 'b', 'c'].map((k, i) => group.write(insert(db, k, i))));
    assert.deepEqual(answers, [1, 1, 1]);
    assert.equal(commits(), 1, 'one transaction for the three');
    assert.deepEqual(rows(db), ['a=0', 'b=1', 'c=2']);
  });

  void it('rolls a failing write back to its savepoint alone; the others commit', async () => {
    const { db, group } = setup();
    const failing = () => {
      db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('half', 9); // written, then undone with its savepoint
      return db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('a', 1); // duplicate key
    };
    const results = await Promise.allSettled([group.write(insert(db, 'a', 0)), group.write(failing), group.write(insert(db, 'b', 2))]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/u);
    assert.deepEqual(rows(db), ['a=0', 'b=2'], 'nothing of the failed write is left');
  });

  void it('rejects every write of the group when one must abort the transaction, and keeps none', async () => {
    const { db, commits, group } = setup();
    const results = await Promise.allSettled([group.write(insert(db, 'a', 0)), group.write(() => { throw new Error('abort'); }), group.write(insert(db, 'b', 1))]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    assert.equal(commits(), 0);
    assert.deepEqual(rows(db), []);
    // The next turn starts a new group.
    assert.equal(await group.write(insert(db, 'c', 3)), 1);
    assert.deepEqual(rows(db), ['c=3']);
  });

  void it('resolves nothing before the group is committed', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    const inTransaction = db.transaction((fn: () => unknown) => fn());
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const group = new GroupCommit({
      transaction: async (fn) => {
        await gate; // the lock is held elsewhere for a while
        inTransaction.immediate(fn);
      },
      savepoint: (fn) => inTransaction(fn),
      abortsGroup: () => false,
    });
    let done = false;
    const write = group.write(insert(db, 'a', 0)).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(done, false);
    release();
    await write;
    assert.deepEqual(rows(db), ['a=0']);
  });
});

void describe('SqliteStore writes in groups', () => {
  void it('answers each of many concurrent writes on its own, and keeps exactly the acknowledged ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-group-'));
    try {
      const store = SqliteStore.open({ dataDir: dir });
      const user = await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
      await store.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
      const calendar = (await store.getCollection('/calendars/alice/default/'))!;
      const put = (name: string, uid: string) => store.putObject({ collectionId: calendar.id, name, body: Buffer.from(name), contentType: 'text/calendar', metadata: { uid } });
      // Twenty writes in one turn; the sixth reuses the first one's UID (CARDDAV/CALDAV no-uid-conflict).
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => put(`e${i}.ics`, i === 5 ? 'u0' : `u${i}`)));
      assert.deepEqual(results.map((r, i) => (r.status === 'fulfilled' ? i : -1)).filter((i) => i >= 0).length, 19);
      assert.ok(results[5]?.status === 'rejected' && results[5].reason instanceof UidConflict);
      const members = (await store.listMembers(calendar.id)).objects.map((o) => o.name).sort();
      assert.equal(members.length, 19);
      assert.ok(!members.includes('e5.ics'));
      const changes = await store.changesSince(calendar.id, 0, 100);
      assert.equal(changes.changes.length, 19, 'one change per acknowledged write, none for the refused one');
      await store.close();
      const reopened = SqliteStore.open({ dataDir: dir });
      assert.equal((await reopened.listMembers(calendar.id)).objects.length, 19, 'all acknowledged writes are on disk');
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
