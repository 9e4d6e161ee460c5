// Backfills (DESIGN.md §6): a batch and its checkpoint commit together, a kill -9 at any moment
// resumes exactly where it stopped (no row missed, none done twice), only the claiming node runs it,
// and the batch size follows the target batch time (pause/resume: src/cli/migrate-commands.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertComplete, FIXTURE_MIGRATIONS, openDatabase, seedItems, startChild } from '../../../test/support/backfill-fixture.ts';
import { ITEMS_BACKFILL, nextEvent, setFailOn } from '../../../test/support/items-backfill.ts';
import { claimBackfill, readBackfill, runBatch } from './backfill.ts';
import { BackfillRunner } from './backfill-runner.ts';
import type { SqliteMigration } from './migrator.ts';


function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-backfill-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

void describe('backfill batches and checkpoints', () => {
  void it('commits a batch and its checkpoint together: a failing batch leaves neither', () =>
    withDir((dir) => {
      seedItems(dir, 250);
      const db = openDatabase(dir);
      try {
        setFailOn(230);
        claimBackfill(db, ITEMS_BACKFILL, 'n1', Date.now(), 30_000, 100);
        runBatch(db, ITEMS_BACKFILL, { node: 'n1', batchSize: 100 });
        runBatch(db, ITEMS_BACKFILL, { node: 'n1', batchSize: 100 });
        assert.throws(() => runBatch(db, ITEMS_BACKFILL, { node: 'n1', batchSize: 100 }), /derive failed on 230/u);
        const progress = readBackfill(db, ITEMS_BACKFILL.version);
        assert.equal(progress?.lastKey, 200);
        assert.equal(progress.rowsDone, 200);
        const third = db.prepare('SELECT count(*) AS n FROM items WHERE id > 200 AND touched > 0').get() as { n: number };
        assert.equal(third.n, 0, 'the failed batch wrote nothing');
        setFailOn(undefined);
        assert.equal(runBatch(db, ITEMS_BACKFILL, { node: 'n1', batchSize: 100 }).done, true);
      } finally {
        setFailOn(undefined);
        db.close();
      }
      assertComplete(dir, 250);
    }));

  void it('lets only the claiming node run batches while its claim is fresh', () =>
    withDir((dir) => {
      seedItems(dir, 10);
      const db = openDatabase(dir);
      try {
        assert.ok(claimBackfill(db, ITEMS_BACKFILL, 'a', Date.now(), 30_000, 5));
        assert.equal(claimBackfill(db, ITEMS_BACKFILL, 'b', Date.now(), 30_000, 5), undefined, 'b may not take a live claim');
        assert.equal(runBatch(db, ITEMS_BACKFILL, { node: 'b', batchSize: 5 }).rows, 0, 'b runs nothing');
        assert.ok(claimBackfill(db, ITEMS_BACKFILL, 'b', Date.now() + 60_000, 30_000, 5), 'a stale claim is taken over');
      } finally {
        db.close();
      }
    }));

  void it('hands over at once after a clean stop (the next node of a restart does not wait for a stale claim)', () =>
    withDir(async (dir) => {
      seedItems(dir, 2000);
      const db = openDatabase(dir);
      try {
        let batches = 0;
        const first: BackfillRunner = new BackfillRunner({
          db,
          migrations: FIXTURE_MIGRATIONS,
          node: 'old-process',
          initialBatchSize: 10,
          maxBatchSize: 10,
          wait: () => Promise.resolve(),
          reportEvery: 1,
          onEvent: (event) => {
            if (event.kind === 'progress' && ++batches === 3) void first.stop();
          },
        });
        const stopped = await first.run();
        assert.equal(stopped.stopped, true);
        assert.equal(readBackfill(db, ITEMS_BACKFILL.version)?.owner, null, 'the claim was released');
        const next = await new BackfillRunner({ db, migrations: FIXTURE_MIGRATIONS, node: 'new-process', wait: () => Promise.resolve() }).run();
        assert.deepEqual(next.completed, [ITEMS_BACKFILL.version]);
      } finally {
        db.close();
      }
      assertComplete(dir, 2000);
    }));

  void it('takes over at once from an owner known to be gone, and waits for one that is not', () =>
    withDir(async (dir) => {
      seedItems(dir, 50);
      const db = openDatabase(dir);
      try {
        assert.ok(claimBackfill(db, ITEMS_BACKFILL, 'killed-worker', Date.now(), 30_000, 5), 'a fresh claim, as a kill -9 leaves it');
        const asked: string[] = [];
        let waited = 0;
        const patient: BackfillRunner = new BackfillRunner({
          db,
          migrations: FIXTURE_MIGRATIONS,
          node: 'patient',
          wait: () => Promise.resolve(),
          ownerGone: () => Promise.resolve(false),
          onEvent: (event) => {
            if (event.kind === 'waiting' && ++waited === 2) void patient.stop();
          },
        });
        assert.deepEqual((await patient.run()).completed, [], 'a live owner keeps its claim');
        assert.equal(readBackfill(db, ITEMS_BACKFILL.version)?.owner, 'killed-worker');
        const next = await new BackfillRunner({
          db,
          migrations: FIXTURE_MIGRATIONS,
          node: 'replacement',
          wait: () => Promise.resolve(),
          ownerGone: (owner) => {
            asked.push(owner);
            return Promise.resolve(owner === 'killed-worker');
          },
        }).run();
        assert.deepEqual(next.completed, [ITEMS_BACKFILL.version]);
        assert.deepEqual(asked, ['killed-worker']);
      } finally {
        db.close();
      }
      assertComplete(dir, 50);
    }));

  void it('resumes after kill -9 at several points with no row missed or done twice', { timeout: 60_000 }, () =>
    withDir(async (dir) => {
      const rows = 3000;
      seedItems(dir, rows);
      for (const killAfter of [1, 4, 9]) {
        const child = startChild(dir, `killed-${killAfter}`, 0.05);
        for (let seen = 0; seen < killAfter; ) {
          if ((await nextEvent(child.lines)).kind === 'progress') seen++;
        }
        child.kill();
        await child.exited;
        const db = openDatabase(dir);
        const progress = readBackfill(db, ITEMS_BACKFILL.version);
        const touched = (db.prepare('SELECT count(*) AS n FROM items WHERE touched > 0').get() as { n: number }).n;
        db.close();
        assert.equal(touched, progress?.rowsDone, 'the rows written are exactly those the checkpoint counts');
        assert.ok((progress?.rowsDone ?? 0) < rows, 'killed before the end');
      }
      const db = openDatabase(dir);
      try {
        await new BackfillRunner({ db, migrations: FIXTURE_MIGRATIONS, node: 'resumer', staleAfterMs: 0, wait: () => Promise.resolve() }).run();
      } finally {
        db.close();
      }
      assertComplete(dir, rows);
    }));

  void it('derives before taking the lock, and derives again a row written in between', () =>
    withDir(async (dir) => {
      seedItems(dir, 30);
      const db = openDatabase(dir);
      const writer = openDatabase(dir);
      let wrote = false;
      let lockedDerives = 0;
      const racing: SqliteMigration = {
        ...ITEMS_BACKFILL,
        backfill: {
          ...ITEMS_BACKFILL.backfill!,
          derive: (row) => {
            if (db.inTransaction) lockedDerives += 1;
            else if (row.id === 7 && !wrote) {
              // A client's write lands after the runner read row 7 and before its batch takes the lock.
              writer.prepare("UPDATE items SET source = 'rewritten' WHERE id = 7").run();
              wrote = true;
            }
            return ITEMS_BACKFILL.backfill!.derive(row);
          },
        },
      };
      try {
        const summary = await new BackfillRunner({ db, migrations: [...FIXTURE_MIGRATIONS.filter((m) => m !== ITEMS_BACKFILL), racing], node: 'n', initialBatchSize: 10, maxBatchSize: 10, wait: () => Promise.resolve() }).run();
        assert.deepEqual(summary.completed, [ITEMS_BACKFILL.version]);
        assert.ok(wrote);
        assert.equal(lockedDerives, 1, 'only the rewritten row was derived under the lock');
        assert.equal((db.prepare('SELECT derived FROM items WHERE id = 7').get() as { derived: string }).derived, 'REWRITTEN');
      } finally {
        writer.close();
        db.close();
      }
      assertComplete(dir, 30);
    }));

  void it('adapts the batch size to the target batch time, and halves it under request-latency pressure', () =>
    withDir(async (dir) => {
      seedItems(dir, 2000);
      // A virtual clock: each row written under the lock costs exactly 1 ms, so sizes are
      // deterministic. (derive runs before the lock and costs nothing on this clock.)
      let now = 0;
      const migrations = FIXTURE_MIGRATIONS;
      let pressure = 1;
      const db = openDatabase(dir);
      db.function('charge_one_ms', () => ((now += 1), 0));
      db.exec('CREATE TEMP TRIGGER charge_row AFTER UPDATE ON items BEGIN SELECT charge_one_ms(); END');
      try {
        const runner = new BackfillRunner({
          db,
          migrations,
          node: 'n',
          initialBatchSize: 1,
          targetBatchMs: 25,
          clock: () => now,
          pressure: () => pressure,
          wait: () => Promise.resolve(),
          onEvent: (event) => {
            if (event.kind === 'progress' && event.progress.rowsDone > 1000) pressure = 3;
          },
          reportEvery: 1,
        });
        const summary = await runner.run();
        const sizes = summary.batchSizes;
        assert.deepEqual(sizes.slice(0, 8), [1, 2, 3, 5, 8, 12, 18, 25], 'grows at most 1.5× per batch until a batch takes the target time');
        const beforePressure = sizes.slice(8, 30);
        assert.ok(beforePressure.every((s) => s === 25), `steady at the target: ${beforePressure.join(',')}`);
        assert.equal(sizes.at(-2), 13, 'under pressure a batch aims at half the target (12.5 ms)');
        assert.ok(summary.longestLockMs <= 100);
      } finally {
        db.close();
      }
      assertComplete(dir, 2000);
    }));
});
