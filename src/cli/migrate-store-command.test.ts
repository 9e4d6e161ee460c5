// `almanac migrate-store` from a SQLite data folder into PostgreSQL (a throw-away cluster): what a
// client can observe afterwards is the same — accounts, credentials, listings, ETags, properties,
// change logs, sync positions and the store epoch (so sync tokens stay valid) — and new writes carry
// on from there. A non-empty target is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipWithoutPostgres, TestPostgres } from '../../test/support/postgres.ts';
import { PostgresStore } from '../store/postgres/postgres-store.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { main } from './main.ts';

async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'almanac', ...args], {
    stdin: () => Promise.resolve(''),
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    isTTY: false,
    env: {},
    exit: (exitCode) => {
      throw new Error(`unexpected exit(${exitCode})`);
    },
  });
  return { code, stdout, stderr };
}

const body = (text: string): Buffer => Buffer.from(text, 'utf8');

/** A small deployment with every kind of row, including a folder moved under a newer one. */
async function populate(store: Store): Promise<void> {
  const alice = await store.createUser({ name: 'alice', email: 'a@example.com', displayName: 'Alice', passwordHash: 'hash-a' });
  await store.addAppPassword('alice', 'phone', 'app-hash');
  await store.createUser({ name: 'bob', email: null, displayName: null, passwordHash: null });
  await store.ensureHomes(alice.id, [
    { path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [{ op: 'set', name: '{DAV:}displayname', xml: '<d:displayname xmlns:d="DAV:">Cal</d:displayname>' }] }] },
    { path: '/files/alice/', kind: 'files-home', children: [] },
  ]);
  const calendar = (await store.getCollection('/calendars/alice/default/'))!;
  for (let i = 0; i < 30; i += 1) {
    await store.putObject({ collectionId: calendar.id, name: `e${i}.ics`, body: body(`event ${i} ünïcode`), contentType: 'text/calendar', metadata: { uid: `u${i}`, component: 'VEVENT', firstStart: i, lastEnd: i + 1 } });
  }
  await store.putObject({ collectionId: calendar.id, name: 'e1.ics', body: body('edited'), contentType: 'text/calendar', metadata: { uid: 'u1' } });
  await store.deleteObject(calendar.id, 'e2.ics');
  const e3 = (await store.getObject(calendar.id, 'e3.ics'))!;
  await store.patchProperties({ kind: 'object', objectId: e3.id }, [{ op: 'set', name: '{urn:x}p', xml: '<x:p xmlns:x="urn:x">1</x:p>' }]);
  const files = (await store.getCollection('/files/alice/'))!;
  const older = await store.createCollection({ ownerId: alice.id, parentId: files.id, name: 'older', kind: 'files' });
  const newer = await store.createCollection({ ownerId: alice.id, parentId: files.id, name: 'newer', kind: 'files' });
  await store.putObject({ collectionId: older.id, name: 'f.txt', body: body('file'), contentType: 'text/plain' });
  await store.moveCollection(older.id, { parentId: newer.id, name: 'older', replace: false });
}

/** Everything a client could observe about the deployment, as plain data. */
async function observe(store: Store): Promise<unknown> {
  const paths = ['/calendars/alice/', '/calendars/alice/default/', '/files/alice/', '/files/alice/newer/', '/files/alice/newer/older/'];
  const collections = [];
  for (const path of paths) {
    const collection = (await store.getCollection(path))!;
    const members = await store.listMembers(collection.id);
    const sync = await store.syncChanges(collection.id, 0, null);
    collections.push({
      collection,
      members,
      properties: await store.getProperties({ kind: 'collection', collectionId: collection.id }),
      log: await store.changesSince(collection.id, 0, 1000),
      // Maps are keyed by name; their iteration order is not part of the answer.
      sync: { ...sync, objects: [...sync.objects].sort(), collections: [...sync.collections].sort() },
      bodies: (await store.getObjectsWithBodies(collection.id, members.objects.map((o) => o.name))).map((o) => [o.name, Buffer.from(o.body).toString('hex')]).sort(),
      objectProperties: await Promise.all(members.objects.map((o) => store.getProperties({ kind: 'object', objectId: o.id }))),
      query: (await store.queryObjects(collection.id, { overlapping: { start: 5, end: 9 } })).map((o) => o.name),
    });
  }
  return { users: await store.listUsers(), credentials: await store.lookupCredentials('alice'), appPasswords: await store.listAppPasswords('alice'), epoch: await store.epoch(), collections };
}

void describe('almanac migrate-store', { skip: skipWithoutPostgres() }, () => {
  let cluster: TestPostgres;
  let dataDir: string;
  before(async () => {
    cluster = await TestPostgres.start();
    dataDir = mkdtempSync(join(tmpdir(), 'almanac-migrate-store-'));
  });
  after(async () => {
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  void it('copies a SQLite deployment so that clients observe the same store, and writes continue from there', async () => {
    const sqlite = SqliteStore.open({ dataDir });
    await populate(sqlite);
    const before = await observe(sqlite);
    await sqlite.close();
    const url = await cluster.createDatabase('target');

    const result = await cli(['migrate-store', '--from', `sqlite:${dataDir}`, '--to', url]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /objects: \d+\/\d+ copied/u);
    assert.match(result.stdout, /verified 30 objects/u);

    const postgres = await PostgresStore.open({ url });
    try {
      assert.deepEqual(await observe(postgres), before);
      const calendar = (await postgres.getCollection('/calendars/alice/default/'))!;
      const { created, object } = await postgres.putObject({ collectionId: calendar.id, name: 'new.ics', body: body('new'), contentType: 'text/calendar', metadata: { uid: 'new' } });
      assert.equal(created, true);
      const log = await postgres.changesSince(calendar.id, calendar.syncSeq, 10);
      assert.deepEqual(log.changes.map((c) => [c.seq, c.member]), [[calendar.syncSeq + 1, 'new.ics']], 'positions continue after the copied ones');
      assert.ok(object.id > 30, 'new ids come after the copied ones');
    } finally {
      await postgres.close();
    }

    const again = await cli(['migrate-store', '--from', `sqlite:${dataDir}`, '--to', url]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds accounts/u);
  });
});
