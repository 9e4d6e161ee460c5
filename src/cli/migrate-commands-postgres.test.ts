// `almanac migrate status|pause|resume` and `release status` with --database postgres://…: the
// pending object_busy backfill is listed, a pause from the CLI holds a runner of another connection
// before its first batch, resume lets it finish, and both status commands report it done.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { skipWithoutPostgres, TestPostgres } from '../../test/support/postgres.ts';
import { currentReleaseIdentity } from '../release/identity.ts';
import { backfillConnection, PostgresBackfillRunner } from '../store/postgres/backfill.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import { PostgresStore } from '../store/postgres/postgres-store.ts';
import { cli } from '../../test/support/cli.ts';

let cluster: TestPostgres | undefined;
after(async () => {
  await cluster?.stop();
});


interface Status {
  pending: { version: number; phase: string }[];
  backfills: { version: number; state: string; rowsDone: number }[];
}

void describe('almanac migrate status|pause|resume on PostgreSQL', { skip: skipWithoutPostgres() }, () => {
  void it('lists, pauses and resumes the pending backfill, and release status shows it', { timeout: 60_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('cli_backfill');
    const release = currentReleaseIdentity();
    // The previous release's schema, with objects; then this release's expand at open leaves the backfill pending.
    const old = await PostgresStore.open({ url, release, migrations: POSTGRES_MIGRATIONS.filter((m) => m.phase !== 'backfill' && m.version < 5) });
    const user = await old.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
    await old.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
    const calendar = (await old.getCollection('/calendars/alice/default/'))!;
    for (let i = 0; i < 40; i++) await old.putObject({ collectionId: calendar.id, name: `e${i}.ics`, body: Buffer.from(`not a calendar ${i}`), contentType: 'text/calendar', metadata: { uid: `u${i}` } });
    await old.close();
    const store = await PostgresStore.open({ url, release });
    await store.close();

    const before = JSON.parse((await cli(['migrate', 'status', '--json', '--database', url])).stdout) as Status;
    assert.deepEqual(before.pending, [{ version: 7, name: 'object-busy-backfill', phase: 'backfill' }, { version: 9, name: 'drop-object-busy-trigger', phase: 'contract' }]);
    assert.deepEqual(before.backfills, []);
    const plain = await cli(['migrate', 'status', '--database', url]);
    assert.match(plain.stdout, /0007-object-busy-backfill {2}not started/u);

    const paused = await cli(['migrate', 'pause', '--database', url]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /paused backfill 7/u);
    const client = await backfillConnection(url);
    try {
      const events: string[] = [];
      const running = new PostgresBackfillRunner(client, POSTGRES_MIGRATIONS, { node: 'n', pollMs: 10, initialBatchSize: 10, onEvent: (e) => events.push(e.kind) }).run();
      while (!events.includes('paused')) await sleep(10);
      const held = JSON.parse((await cli(['migrate', 'status', '--json', '--database', url])).stdout) as Status;
      assert.deepEqual(held.backfills.map((b) => [b.version, b.state, b.rowsDone]), [[7, 'paused', 0]]);
      assert.match((await cli(['migrate', 'resume', '--database', url])).stdout, /resumed backfill 7/u);
      assert.deepEqual((await running).completed, [7]);
    } finally {
      await client.end();
    }
    const after = JSON.parse((await cli(['migrate', 'status', '--json', '--database', url])).stdout) as Status;
    assert.deepEqual(after.pending, [{ version: 9, name: 'drop-object-busy-trigger', phase: 'contract' }], 'only the contract step waits, for its explicit command');
    assert.deepEqual(after.backfills.map((b) => [b.version, b.state, b.rowsDone]), [[7, 'done', 40]]);
    const release2 = await cli(['release', 'status', '--json', '--database', url]);
    assert.equal(release2.code, 0, release2.stderr);
    assert.deepEqual((JSON.parse(release2.stdout) as Status).backfills.map((b) => [b.version, b.state]), [[7, 'done']]);
  });
});
