// `almanac migrate status|pause|resume` against a real database: the status a person or a script
// reads (JSON and the terminal bar), and a pause set from this process holding a backfill that runs
// in another process until it is resumed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertComplete, FIXTURE_MIGRATIONS, openDatabase, seedItems, startChild } from '../../test/support/backfill-fixture.ts';
import { ITEMS_BACKFILL, nextEvent } from '../../test/support/items-backfill.ts';
import { claimBackfill, readBackfill, runBatch, setBackfillPaused } from '../store/sqlite/backfill.ts';
import { cli } from '../../test/support/cli.ts';

function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-migrate-cli-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}


void describe('almanac migrate status|pause|resume', () => {
  void it('reports a backfill’s rows done, total, rate and ETA as JSON and as a bar on a terminal', () =>
    withDir(async (dir) => {
      seedItems(dir, 300);
      const db = openDatabase(dir);
      try {
        claimBackfill(db, ITEMS_BACKFILL, 'node-a', Date.now(), 30_000, 100);
        runBatch(db, ITEMS_BACKFILL, { node: 'node-a', batchSize: 100, rowsPerSecond: 50 });
      } finally {
        db.close();
      }
      const json = await cli(['migrate', 'status', '--json', '--data', dir]);
      assert.equal(json.code, 0, json.stderr);
      const status = JSON.parse(json.stdout) as { backfills: { version: number; state: string; rowsDone: number; rowsTotal: number; rowsPerSecond: number; etaSeconds: number }[] };
      const backfill = status.backfills.find((b) => b.version === ITEMS_BACKFILL.version);
      assert.deepEqual(
        { state: backfill?.state, done: backfill?.rowsDone, total: backfill?.rowsTotal, rate: backfill?.rowsPerSecond, eta: backfill?.etaSeconds },
        { state: 'running', done: 100, total: 300, rate: 50, eta: 4 },
      );
      const tty = await cli(['migrate', 'status', '--data', dir], true);
      assert.match(tty.stdout, /0902-test-items-derived {2}running\n {2}\[#{10}\.{20}\] {2}33\.3% {2}100\/300 rows {2}50 rows\/s {2}ETA 4s/u);
      const plain = await cli(['migrate', 'status', '--data', dir]);
      assert.doesNotMatch(plain.stdout, /\[#/u, 'no bar when not on a terminal');
      assert.match(plain.stdout, /100\/300 rows/u);
    }));

  void it('refuses to report on a data folder without a database, without creating one', () =>
    withDir(async (dir) => {
      const result = await cli(['migrate', 'status', '--data', join(dir, 'none')]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /cannot open/u);
    }));

  void it('a flag set before the backfill starts holds it back from the start', () =>
    withDir((dir) => {
      seedItems(dir, 10);
      const db = openDatabase(dir);
      try {
        // What `migrate pause` does, with the test's own migration in the list it knows.
        setBackfillPaused(db, FIXTURE_MIGRATIONS, true, Date.now());
        claimBackfill(db, ITEMS_BACKFILL, 'n', Date.now(), 30_000, 100);
        assert.equal(runBatch(db, ITEMS_BACKFILL, { node: 'n', batchSize: 100 }).paused, true);
        assert.equal(readBackfill(db, ITEMS_BACKFILL.version)?.state, 'paused');
      } finally {
        db.close();
      }
    }));

  void it('is paused and resumed by `almanac migrate pause|resume` from another process', { timeout: 60_000 }, () =>
    withDir(async (dir) => {
      const rows = 4000;
      seedItems(dir, rows);
      const child = startChild(dir, 'pausable', 0.05);
      while ((await nextEvent(child.lines)).kind !== 'progress');
      assert.equal((await cli(['migrate', 'pause', '--data', dir])).code, 0);
      while ((await nextEvent(child.lines)).kind !== 'paused');
      const read = (): number => {
        const db = openDatabase(dir);
        try {
          return readBackfill(db, ITEMS_BACKFILL.version)?.rowsDone ?? -1;
        } finally {
          db.close();
        }
      };
      const atPause = read();
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(read(), atPause, 'no batch ran while paused');
      assert.ok(atPause < rows);
      assert.equal((await cli(['migrate', 'resume', '--data', dir])).code, 0);
      let event;
      while ((event = await nextEvent(child.lines)).kind !== 'exit') assert.notEqual(event.kind, 'failed');
      assert.equal(await child.exited, 0);
      assertComplete(dir, rows);
    }));

});
