// A connection lost exactly at COMMIT, on a real PostgreSQL behind a relay that breaks the wire there
// (test/support/pg-commit-fault.ts): what the caller is told must match what is stored. Committed
// although the reply was lost → the write is acknowledged with its ETag; never reached the server →
// 503 and nothing stored, so the retry creates it once; nobody can tell (PostgreSQL unreachable, or
// the COMMIT waits for a synchronous standby that never confirms) → 503 and an error logged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PgCommitFault } from '../../../test/support/pg-commit-fault.ts';
import { skipWithoutPostgres, TestPostgres } from '../../../test/support/postgres.ts';
import { StoreUnavailable } from '../errors.ts';
import type { CollectionRecord } from '../types.ts';
import { PostgresStore } from './postgres-store.ts';

const skip = skipWithoutPostgres();

void describe('postgres write whose COMMIT loses its connection', { skip }, () => {
  let cluster: TestPostgres;
  let url: string;
  let relay: PgCommitFault;
  let store: PostgresStore;
  /** The same database seen directly, as another node would see it. */
  let direct: PostgresStore;
  let files: CollectionRecord;
  const logged: { fields: Record<string, unknown>; message: string }[] = [];

  before(async () => {
    cluster = await TestPostgres.start();
    url = await cluster.createDatabase('commit');
    relay = await PgCommitFault.start(url);
    store = await PostgresStore.open({ url: relay.url(url), commitCheckMs: 400, log: { error: (fields, message) => logged.push({ fields, message }) } });
    direct = await PostgresStore.open({ url });
    const user = await store.createUser({ name: 'dana', email: null, displayName: null, passwordHash: null });
    await store.ensureHomes(user.id, [{ path: '/files/dana/', kind: 'files-home', children: [] }]);
    files = (await store.getCollection('/files/dana/'))!;
  });
  after(async () => {
    await store.close();
    await direct.close();
    await relay.close();
    await cluster.stop();
  });

  const put = (name: string, text: string): ReturnType<PostgresStore['putObject']> =>
    store.putObject({ collectionId: files.id, name, body: Buffer.from(text), contentType: 'text/plain' });

  void it('acknowledges a write that committed although the reply to COMMIT was lost', async () => {
    const fired = relay.arm('reply-lost');
    const result = await put('committed.txt', 'stored before the wire broke');
    await fired;
    assert.equal(result.created, true);
    const stored = await direct.getObjectWithBody(files.id, 'committed.txt');
    assert.equal(stored?.etag, result.object.etag, 'the ETag acknowledged is the ETag stored');
    assert.equal(Buffer.from(stored.body).toString(), 'stored before the wire broke');
    const log = await direct.changesSince(files.id, 0, 100);
    assert.deepEqual(log.changes.filter((c) => c.member === 'committed.txt').length, 1);
    assert.equal(logged.length, 0, 'a known outcome is not an error');
    // The store goes on working: the broken connection was dropped, not reused.
    assert.equal((await put('next.txt', 'after')).created, true);
  });

  void it('answers 503 for a COMMIT that never reached PostgreSQL, stores nothing, and the retry stores it once', async () => {
    const fired = relay.arm('before');
    await assert.rejects(put('aborted.txt', 'first try'), (error: unknown) => error instanceof StoreUnavailable && error.retryAfterSeconds >= 1);
    await fired;
    assert.equal(await direct.getObject(files.id, 'aborted.txt'), null, 'nothing was stored');
    const retry = await put('aborted.txt', 'first try');
    assert.equal(retry.created, true, 'the retry creates it: the first attempt left nothing behind');
    assert.equal((await direct.getObject(files.id, 'aborted.txt'))?.etag, retry.object.etag);
    assert.equal((await direct.changesSince(files.id, 0, 100)).changes.filter((c) => c.member === 'aborted.txt').length, 1);
    assert.equal(logged.length, 0);
  });

  void it('answers 503 and logs an error when PostgreSQL cannot be asked what became of the COMMIT', async () => {
    const fired = relay.arm('reply-lost');
    relay.refusing = true;
    try {
      await assert.rejects(put('unknown.txt', 'maybe'), (error: unknown) => error instanceof StoreUnavailable && /did not say whether the write was stored/u.test(error.message));
      await fired;
    } finally {
      relay.refusing = false;
    }
    assert.equal(logged.length, 1);
    assert.match(logged[0]?.message ?? '', /outcome is unknown/u);
    assert.equal(typeof logged[0]?.fields.xid, 'string');
    // Why it had to be "unknown" rather than "not stored": it did commit.
    assert.notEqual(await direct.getObject(files.id, 'unknown.txt'), null);
  });

  void it('serves a listing whose read-only COMMIT lost its connection: every row had arrived', async () => {
    const fired = relay.arm('before');
    const members = await store.listMembers(files.id);
    await fired;
    assert.deepEqual(
      members.objects.map((o) => o.name),
      (await direct.listMembers(files.id)).objects.map((o) => o.name),
    );
    assert.ok(members.objects.length >= 3);
  });

  void it('does not acknowledge a COMMIT that is durable locally but still waits for a synchronous standby', async () => {
    // Sessions of this database commit synchronously; the standby named never connects.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const probes: pg.Client[] = [];
    await admin.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET synchronous_commit = on`);
    // Opened after that, so its connections commit synchronously.
    const waiting = await PostgresStore.open({ url: relay.url(url), commitCheckMs: 400, log: { error: (fields, message) => logged.push({ fields, message }) } });
    try {
      await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
      await admin.query('SELECT pg_reload_conf()');
      // The reload reaches the server's processes asynchronously: wait until a commit that wrote WAL
      // (a transactional logical message, nothing stored) really waits.
      for (let attempt = 0; ; attempt++) {
        assert.ok(attempt < 50, 'synchronous replication never took effect');
        const probe = new pg.Client({ connectionString: url });
        probe.on('error', () => undefined);
        await probe.connect();
        probes.push(probe);
        const committed = probe.query("BEGIN; SELECT pg_logical_emit_message(true, 'almanac-test', 'probe'); COMMIT").then(() => true, () => true);
        if (!(await Promise.race([committed, sleep(300).then(() => false)]))) break;
      }
      const before = logged.length;
      const fired = relay.arm('sent-then-cut');
      await assert.rejects(
        waiting.putObject({ collectionId: files.id, name: 'standby.txt', body: Buffer.from('waiting'), contentType: 'text/plain' }),
        (error: unknown) => error instanceof StoreUnavailable && /did not say whether the write was stored/u.test(error.message),
      );
      await fired;
      assert.equal(logged.length, before + 1);
      assert.match(String(logged.at(-1)?.fields.lastSeen), /in progress|still running/u, 'PostgreSQL was asked and said it is not over');
      assert.equal(await direct.getObject(files.id, 'standby.txt'), null, 'not visible to anyone while it waits');
    } finally {
      await admin.query('ALTER SYSTEM RESET synchronous_standby_names');
      await admin.query('SELECT pg_reload_conf()');
      await admin.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} RESET synchronous_commit`);
      await admin.end();
      await waiting.close();
    }
    // Released, the waiting COMMIT completes: "unknown" was the honest answer.
    let stored = await direct.getObject(files.id, 'standby.txt');
    for (let i = 0; i < 100 && stored === null; i++) {
      await sleep(50);
      stored = await direct.getObject(files.id, 'standby.txt');
    }
    assert.notEqual(stored, null);
    await Promise.all(probes.map((p) => p.end().catch(() => undefined)));
  });
});
