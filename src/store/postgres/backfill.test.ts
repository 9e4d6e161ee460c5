// Backfills on PostgreSQL, against a throw-away cluster: a batch and its checkpoint commit together,
// a kill -9 mid-run resumes with no row missed or done twice, of several nodes racing for a backfill
// exactly one runs it, and a pause set from another connection holds the runner until resumed.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { skipWithoutPostgres, TestPostgres } from '../../../test/support/postgres.ts';
import { assertComplete, connect, PG_FIXTURE_MIGRATIONS, seedItems, startChild } from '../../../test/support/pg-backfill-fixture.ts';
import { ITEMS_BACKFILL, nextEvent, setFailOn } from '../../../test/support/items-backfill.ts';
import type { BackfillEvent } from '../backfill-engine.ts';
import { backfillConnection, claimBackfill, listBackfills, PostgresBackfillRunner, readBackfill, runBatch, setBackfillPaused } from './backfill.ts';

const skip = skipWithoutPostgres();
let cluster: TestPostgres | undefined;
async function database(prefix: string): Promise<string> {
  cluster ??= await TestPostgres.start();
  return cluster.createDatabase(prefix);
}
after(async () => {
  await cluster?.stop();
});

async function count(url: string, sql: string): Promise<number> {
  const client = await connect(url);
  try {
    return Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
  } finally {
    await client.end();
  }
}

void describe('backfill batches and checkpoints on PostgreSQL', { skip }, () => {
  void it('commits a batch and its checkpoint together: a failing batch leaves neither', async () => {
    const url = await database('bf_atomic');
    await seedItems(url, 250);
    const client = await connect(url);
    try {
      assert.ok(await claimBackfill(client, ITEMS_BACKFILL, 'a', Date.now(), 30_000, 100));
      const first = await runBatch(client, ITEMS_BACKFILL, { node: 'a', batchSize: 100 });
      assert.deepEqual({ rows: first.rows, done: first.done, lastKey: first.lastKey }, { rows: 100, done: false, lastKey: 100 });
      setFailOn(150);
      await assert.rejects(runBatch(client, ITEMS_BACKFILL, { node: 'a', batchSize: 100 }), /derive failed on 150/u);
      setFailOn(undefined);
      assert.equal((await readBackfill(client, ITEMS_BACKFILL.version))?.lastKey, 100, 'the checkpoint did not move');
      assert.equal(await count(url, 'SELECT count(*) AS n FROM items WHERE touched > 0'), 100, 'no row of the failed batch was written');
      assert.equal((await runBatch(client, ITEMS_BACKFILL, { node: 'a', batchSize: 100 })).lastKey, 200, 'the retry redoes the same batch');
      const last = await runBatch(client, ITEMS_BACKFILL, { node: 'a', batchSize: 100 });
      assert.deepEqual({ rows: last.rows, done: last.done }, { rows: 50, done: true });
    } finally {
      setFailOn(undefined);
      await client.end();
    }
    await assertComplete(url, 250);
  });

  void it('resumes after kill -9 at several points with no row missed or done twice', { timeout: 90_000 }, async () => {
    const url = await database('bf_kill');
    const rows = 3000;
    await seedItems(url, rows);
    for (const killAfter of [1, 4, 9]) {
      const child = startChild(url, `killed-${killAfter}`, 0.05);
      for (let seen = 0; seen < killAfter; ) {
        if ((await nextEvent(child.lines)).kind === 'progress') seen++;
      }
      child.kill();
      await child.exited;
      const client = await connect(url);
      try {
        // The killed backend's open transaction is rolled back once PostgreSQL sees its socket close.
        for (let i = 0; i < 50 && (await client.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'almanac-backfill'")).rowCount !== 0; i++) await sleep(50);
        const progress = await readBackfill(client, ITEMS_BACKFILL.version);
        const touched = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM items WHERE touched > 0')).rows[0]?.n);
        assert.equal(touched, progress?.rowsDone, 'the rows written are exactly those the checkpoint counts');
        assert.ok((progress?.rowsDone ?? 0) < rows, 'killed before the end');
      } finally {
        await client.end();
      }
    }
    const client = await backfillConnection(url);
    try {
      const summary = await new PostgresBackfillRunner(client, PG_FIXTURE_MIGRATIONS, { node: 'resumer', staleAfterMs: 0, wait: () => Promise.resolve() }).run();
      assert.deepEqual(summary.completed, [ITEMS_BACKFILL.version]);
    } finally {
      await client.end();
    }
    await assertComplete(url, rows);
  });

  void it('lets exactly one of several racing nodes claim and run a backfill', { timeout: 60_000 }, async () => {
    const url = await database('bf_race');
    await seedItems(url, 2000);
    const clients = await Promise.all([1, 2, 3].map(() => connect(url)));
    try {
      const claims = await Promise.all(clients.map((c, i) => claimBackfill(c, ITEMS_BACKFILL, `node-${i}`, Date.now(), 30_000, 100)));
      assert.equal(claims.filter((c) => c !== undefined).length, 1, 'one claim wins');
      const winner = claims.findIndex((c) => c !== undefined);
      const loser = clients[(winner + 1) % 3];
      assert.ok(loser);
      const refused = await runBatch(loser, ITEMS_BACKFILL, { node: `node-${(winner + 1) % 3}`, batchSize: 100 });
      assert.equal(refused.rows, 0, 'a node without the claim writes nothing');
      const winnerClient = clients[winner];
      assert.ok(winnerClient);
      await setBackfillPaused(winnerClient, PG_FIXTURE_MIGRATIONS, false, Date.now());
      // Runners on all three: the claim holder runs it; the others wait until it is done.
      const waits: string[] = [];
      const summaries = await Promise.all(
        clients.map((c, i) =>
          new PostgresBackfillRunner(c, PG_FIXTURE_MIGRATIONS, {
            node: `node-${i}`,
            staleAfterMs: 30_000,
            pollMs: 10,
            onEvent: (e: BackfillEvent) => {
              if (e.kind === 'waiting') waits.push(`node-${i}`);
            },
          }).run(),
        ),
      );
      assert.ok(summaries.every((s) => s.completed.includes(ITEMS_BACKFILL.version)));
      assert.equal(summaries.reduce((n, s) => n + s.rows, 0), 2000, 'the rows were written once, by one node');
      assert.ok(!waits.includes(`node-${winner}`));
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    await assertComplete(url, 2000);
  });

  void it('holds at a pause set by another connection and goes on after resume', { timeout: 60_000 }, async () => {
    const url = await database('bf_pause');
    await seedItems(url, 3000);
    const operator = await connect(url);
    const client = await backfillConnection(url);
    try {
      assert.deepEqual(await setBackfillPaused(operator, PG_FIXTURE_MIGRATIONS, true, Date.now()), [ITEMS_BACKFILL.version], 'paused before it started');
      assert.equal((await listBackfills(operator))[0]?.state, 'paused');
      const events: string[] = [];
      const runner = new PostgresBackfillRunner(client, PG_FIXTURE_MIGRATIONS, {
        node: 'n',
        initialBatchSize: 50,
        maxBatchSize: 50,
        pollMs: 10,
        onEvent: (e) => events.push(e.kind),
      });
      const running = runner.run();
      while (!events.includes('paused')) await sleep(10);
      await sleep(100);
      assert.equal((await readBackfill(operator, ITEMS_BACKFILL.version))?.rowsDone, 0, 'no batch ran while paused');
      await setBackfillPaused(operator, PG_FIXTURE_MIGRATIONS, false, Date.now());
      const summary = await running;
      assert.deepEqual(summary.completed, [ITEMS_BACKFILL.version]);
      assert.ok(events.includes('resumed'));
      assert.equal((await readBackfill(operator, ITEMS_BACKFILL.version))?.owner, 'n');
    } finally {
      await client.end();
      await operator.end();
    }
    await assertComplete(url, 3000);
  });
});
