// A serving node of the expected release runs its pending backfill in the background while it serves
// after its expand phase (DESIGN.md §6), and shows it: JSON log lines and Prometheus gauges.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { DEFAULTS } from '../../src/config/config.ts';
import { startAlmanac } from '../../src/http/app.ts';
import { currentReleaseIdentity } from '../../src/release/identity.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

const EVENT = (i: number): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VEVENT', `UID:e${i}`, 'DTSTAMP:20260101T000000Z', `DTSTART:202601${String((i % 28) + 1).padStart(2, '0')}T100000Z`, 'DURATION:PT1H', ...(i % 3 === 0 ? ['TRANSP:TRANSPARENT'] : []), 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

void describe('background backfill in a serving node', () => {
  void it('runs the pending backfill while serving and reports it in logs, metrics and status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-bg-backfill-'));
    try {
      // The schema before the reference migration, with this release recorded as the expected one.
      const earlier = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 9), release: currentReleaseIdentity() });
      const user = await earlier.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
      await earlier.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
      const calendar = await earlier.getCollection('/calendars/alice/default/');
      assert.ok(calendar);
      for (let i = 0; i < 300; i++) await earlier.putObject({ collectionId: calendar.id, name: `e${i}.ics`, body: Buffer.from(EVENT(i)), contentType: 'text/calendar' });
      await earlier.close();

      const lines: Record<string, unknown>[] = [];
      const stream = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      });
      const app = await startAlmanac({ ...DEFAULTS, data: dir, port: 0, logLevel: 'info' }, pino({ level: 'info' }, stream));
      try {
        const expanded = lines.filter((l) => l.msg === 'expand migration applied').map((l) => l.migration);
        assert.deepEqual(expanded, ['9-object-busy', '11-migration-rehearsals', '12-node-known-migration', '14-object-time-tree'], 'the expand phase ran at start and says how long it locked');
        assert.ok(app.backfill, 'a runner was started');
        assert.equal((await fetch(new URL('/readyz', app.url))).status, 200, 'serving meanwhile');
        await app.backfill.finished;
        const done = lines.find((l) => l.event === 'done');
        assert.ok(done, 'a JSON log line says the backfill is done');
        assert.equal(done.backfill, '10-object-busy-backfill');
        assert.equal(done.rowsDone, 300);
        const metrics = await (await fetch(new URL('/metrics', app.url))).text();
        assert.match(metrics, /almanac_backfill_rows_done\{migration="10-object-busy-backfill"\} 300/u);
        assert.match(metrics, /almanac_backfill_state\{migration="10-object-busy-backfill"\} 4/u);
        assert.ok(app.store instanceof SqliteStore);
        assert.ok(app.store.releaseRecords().applied.includes(10));
        assert.deepEqual(app.store.releaseRecords().pending, [13], 'only the contract step waits, for its explicit command');
      } finally {
        await app.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
