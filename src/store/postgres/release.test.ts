// Releases and schema changes on PostgreSQL: the expected-release guard behaves as on SQLite; the
// node registry is shared; DDL that cannot get its table lock within lock_timeout is retried until
// the lock is free instead of failing or queueing requests behind it; and the INVALID index an
// interrupted CREATE INDEX CONCURRENTLY leaves behind is dropped and rebuilt.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { skipWithoutPostgres, TestPostgres } from '../../../test/support/postgres.ts';
import type { PostgresMigration } from './migrator.ts';
import { POSTGRES_MIGRATIONS } from './migrations/index.ts';
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
import { databaseBytes, recordRehearsal } from './rehearsals.ts';

const skip = skipWithoutPostgres();
const NEXT: PostgresMigration = { version: 99, name: 'next-feature', phase: 'expand', sql: 'ALTER TABLE objects ADD COLUMN next_feature text;' };
const V1 = { version: '1.0.0', migrationHash: 'hash-one' };
const V2 = { version: '2.0.0', migrationHash: 'hash-two' };

let cluster: TestPostgres | undefined;
async function database(prefix: string): Promise<string> {
  cluster ??= await TestPostgres.start();
  return cluster.createDatabase(prefix);
}
after(async () => {
  await cluster?.stop();
});

async function openClose(url: string, options: Partial<PostgresStoreOptions> = {}) {
  const store = await PostgresStore.open({ url, ...options });
  try {
    return { ...(await store.releaseRecords()), guard: store.releaseGuard(), ready: await store.readiness() };
  } finally {
    await store.close();
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

void describe('expected-release guard on PostgreSQL', { skip }, () => {
  void it('runs no DDL for an unexpected release, serves on the old schema, and migrates once expected', async () => {
    const url = await database('guard');
    const first = await openClose(url, { release: V1 });
    assert.equal(first.guard.unexpected, undefined);
    assert.deepEqual(first.current, V1);
    assert.equal((await openClose(url, { release: V1 })).guard.unexpected, undefined, 'a restart of the same release raises no alarm');

    const unexpected = await openClose(url, { release: V2, migrations: [...POSTGRES_MIGRATIONS, NEXT] });
    assert.match(unexpected.guard.unexpected ?? '', /not expected/u);
    assert.deepEqual(unexpected.pending, [99], 'the new migration did not run');
    assert.deepEqual(unexpected.current, V1);
    assert.equal(unexpected.ready.ready, true);
    assert.match(unexpected.ready.reason, /without migrating/u);

    const store = await PostgresStore.open({ url, release: V1 });
    await store.expectRelease({ ...V2, windowFrom: null, windowUntil: null, approvedBy: 'ops', reason: 'test', createdAt: Date.now() });
    await store.close();
    const unrehearsed = await openClose(url, { release: V2, migrations: [...POSTGRES_MIGRATIONS, NEXT] });
    assert.match(unrehearsed.guard.unexpected ?? '', /expected, but migration set hash-two was never rehearsed/u);
    assert.ok(!unrehearsed.applied.includes(99), 'no DDL without a rehearsal');
    // The record `almanac migrate rehearse` leaves: first one that aged past 7 days, then a fresh one.
    const rehearsal = async (createdAt: number): Promise<void> => {
      await withClient(url, async (client) => {
        await recordRehearsal(client, { ...V2, passed: true, dataBytes: await databaseBytes(client), objectRows: 0, longestLockMs: 1, estimatedMs: 10, report: JSON.stringify({ steps: [] }), createdAt });
      });
    };
    await rehearsal(Date.now() - 8 * 24 * 3600 * 1000);
    assert.match((await openClose(url, { release: V2, migrations: [...POSTGRES_MIGRATIONS, NEXT] })).guard.unexpected ?? '', /older than 7 days/u);
    await rehearsal(Date.now());
    const expected = await openClose(url, { release: V2, migrations: [...POSTGRES_MIGRATIONS, NEXT] });
    assert.equal(expected.guard.unexpected, undefined);
    assert.ok(expected.applied.includes(99));
    assert.deepEqual(expected.current, V2);
  });

  void it('stays unready, without DDL, when the schema is older than the code can serve on', async () => {
    const url = await database('old');
    await openClose(url, { migrations: POSTGRES_MIGRATIONS.slice(0, 1) });
    const result = await openClose(url, { release: V2, minimumSchemaVersion: 3 });
    assert.equal(result.guard.canServe, false);
    assert.equal(result.ready.ready, false);
    assert.deepEqual(result.applied, [1], 'nothing was migrated');
  });

  void it('shares the node registry between nodes', async () => {
    const url = await database('registry');
    const [a, b] = await Promise.all([PostgresStore.open({ url }), PostgresStore.open({ url })]);
    try {
      const now = Date.now();
      assert.equal(await a.heartbeat({ ...V1, id: 'node-a', host: 'h1', pid: 1, startedAt: now, heartbeatAt: now }), true);
      await b.heartbeat({ ...V1, id: 'node-b', host: 'h2', pid: 2, startedAt: now + 1, heartbeatAt: now });
      assert.deepEqual((await b.liveNodes(now - 1000)).map((n) => n.id), ['node-a', 'node-b']);
      await a.forgetNode('node-b');
      assert.deepEqual((await b.liveNodes(now - 1000)).map((n) => n.id), ['node-a']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

void describe('online DDL on PostgreSQL', { skip }, () => {
  void it('retries a migration whose table lock is held past lock_timeout, and applies it once the lock is gone', async () => {
    const url = await database('locked');
    await openClose(url);
    await withClient(url, async (holder) => {
      // A long transaction that read the table holds a lock ALTER TABLE must wait for.
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM objects');
      const opening = openClose(url, { migrations: [...POSTGRES_MIGRATIONS, NEXT], ddlLockTimeoutMs: 50 });
      // While the migration waits, its attempts give up after 50 ms each, so other sessions'
      // queries on the table are not stuck behind a queued ACCESS EXCLUSIVE request for long.
      await sleep(400);
      const probe = await withClient(url, (c) => c.query<{ n: number }>("SELECT count(*)::int AS n FROM schema_migrations WHERE version = 99"));
      assert.equal(probe.rows[0]?.n, 0, 'not applied while the lock is held');
      await holder.query('COMMIT');
      const opened = await opening;
      assert.ok(opened.applied.includes(99));
    });
    const column = await withClient(url, (c) => c.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'objects' AND column_name = 'next_feature'"));
    assert.equal(column.rowCount, 1);
  });

  void it('drops the INVALID index an interrupted CREATE INDEX CONCURRENTLY left and builds it again', async () => {
    const url = await database('invalid');
    await openClose(url, { migrations: POSTGRES_MIGRATIONS.slice(0, 1) });
    await withClient(url, async (c) => {
      // A failed concurrent build leaves its index behind, marked INVALID: here a unique index over
      // duplicate values, under the name migration 2 uses.
      await c.query("INSERT INTO users (name, created_at) VALUES ('u', 0)");
      await c.query("INSERT INTO collections (owner_id, path, kind, created_at, updated_at) VALUES (1, '/files/u/', 'files-home', 0, 0)");
      await c.query("INSERT INTO changes (collection_id, seq, member, deleted, changed_at) VALUES (1, 1, 'a', false, 7), (1, 2, 'b', false, 7)");
      await assert.rejects(c.query('CREATE UNIQUE INDEX CONCURRENTLY changes_age ON changes(changed_at)'));
      const invalid = await c.query("SELECT 1 FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid WHERE x.relname = 'changes_age' AND NOT i.indisvalid");
      assert.equal(invalid.rowCount, 1, 'the failed build left an INVALID index');
    });
    const opened = await openClose(url);
    assert.ok(opened.applied.includes(2));
    const index = await withClient(url, (c) =>
      c.query<{ valid: boolean; unique: boolean }>("SELECT i.indisvalid AS valid, i.indisunique AS unique FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid WHERE x.relname = 'changes_age'"),
    );
    assert.deepEqual(index.rows, [{ valid: true, unique: false }], 'the index of migration 2, valid');
  });
});
