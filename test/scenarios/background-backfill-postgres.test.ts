// Two serving nodes of the expected release on one PostgreSQL database: both start a backfill runner
// after their expand phase, exactly one of them claims and runs the pending object_busy backfill
// while both serve, and each reports it in its JSON log and Prometheus gauges.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { DEFAULTS } from '../../src/config/config.ts';
import { startAlmanac } from '../../src/http/app.ts';
import { currentReleaseIdentity } from '../../src/release/identity.ts';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations/index.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { skipWithoutPostgres, TestPostgres } from '../support/postgres.ts';

const EVENT = (i: number): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VEVENT', `UID:e${i}`, 'DTSTAMP:20260101T000000Z', `DTSTART:202601${String((i % 28) + 1).padStart(2, '0')}T100000Z`, 'DURATION:PT1H', ...(i % 3 === 0 ? ['TRANSP:TRANSPARENT'] : []), 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

let cluster: TestPostgres | undefined;
after(async () => {
  await cluster?.stop();
});

function logSink(): { lines: Record<string, unknown>[]; logger: pino.Logger } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

void describe('background backfill on PostgreSQL nodes', { skip: skipWithoutPostgres() }, () => {
  void it('runs the pending backfill on exactly one of two serving nodes and reports it', { timeout: 90_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('bg_backfill');
    const earlier = await PostgresStore.open({ url, release: currentReleaseIdentity(), migrations: POSTGRES_MIGRATIONS.filter((m) => m.version < 5) });
    const user = await earlier.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
    await earlier.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
    const calendar = (await earlier.getCollection('/calendars/alice/default/'))!;
    for (let i = 0; i < 300; i++) await earlier.putObject({ collectionId: calendar.id, name: `e${i}.ics`, body: Buffer.from(EVENT(i)), contentType: 'text/calendar', metadata: { uid: `e${i}`, component: 'VEVENT' } });
    await earlier.close();

    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'almanac-pg-bg-')));
    const logs = [logSink(), logSink()];
    const apps = [];
    try {
      for (const [i, dir] of dirs.entries()) apps.push(await startAlmanac({ ...DEFAULTS, data: dir, database: url, port: 0, logLevel: 'info' }, logs[i]!.logger));
      for (const app of apps) {
        assert.ok(app.backfill, 'every node starts a runner');
        assert.equal((await fetch(new URL('/readyz', app.url))).status, 200, 'serving meanwhile');
      }
      await Promise.all(apps.map((app) => app.backfill?.finished ?? Promise.resolve()));
      const runs = logs.map((l) => l.lines.filter((line) => line.event === 'done' && line.backfill === '7-object-busy-backfill'));
      assert.equal(runs.filter((r) => r.length > 0).length, 1, 'one node ran it');
      assert.equal(runs.flat()[0]?.rowsDone, 300);
      const ran = runs.findIndex((r) => r.length > 0);
      const metrics = await (await fetch(new URL('/metrics', apps[ran]!.url))).text();
      assert.match(metrics, /almanac_backfill_rows_done\{migration="7-object-busy-backfill"\} 300/u);
      assert.match(metrics, /almanac_backfill_state\{migration="7-object-busy-backfill"\} 4/u);
      const store = apps[0]!.store;
      assert.ok(store instanceof PostgresStore);
      assert.deepEqual((await store.releaseRecords()).pending, [9], 'only the contract step waits, for its explicit command');
    } finally {
      for (const app of apps) await app.stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});
