// The rehearsal runs every pending phase on an online copy under synthetic load and leaves the live
// database as it was; a step over the lock budget fails it with a hint.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import { readAppliedMigrations } from '../store/sqlite/migrator.ts';
import { DATABASE_FILE, SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { rehearse } from './rehearsal.ts';

const event = (i: number): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VEVENT', `UID:e${i}`, 'DTSTAMP:20260101T000000Z', 'DTSTART:20260105T100000Z', 'DURATION:PT1H', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

async function seeded(dir: string, objects: number): Promise<void> {
  const store = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 9) });
  const user = await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
  await store.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
  const calendar = await store.getCollection('/calendars/alice/default/');
  assert.ok(calendar);
  for (let i = 0; i < objects; i++) await store.putObject({ collectionId: calendar.id, name: `e${i}.ics`, body: Buffer.from(event(i)), contentType: 'text/calendar' });
  await store.close();
}

void describe('migration rehearsal', () => {
  void it('times every pending phase on a copy under load and leaves the live database untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-rehearse-'));
    try {
      await seeded(dir, 150);
      const live = new Database(join(dir, DATABASE_FILE));
      const before = readAppliedMigrations(live).map((m) => m.version);
      try {
        const report = await rehearse({ live, migrations: SQLITE_MIGRATIONS, migrationHash: 'h', version: 'v', loadRate: 100 });
        assert.deepEqual(report.steps.map((s) => `${s.version}:${s.phase}`), ['9:expand', '11:expand', '12:expand', '14:expand', '10:backfill', '15:backfill', '13:contract'], 'expand first, then backfills, then contract');
        const backfill = report.steps.find((s) => s.phase === 'backfill');
        assert.equal(backfill?.rows, 150);
        assert.ok((backfill.batches ?? 0) >= 1);
        assert.ok(report.steps.find((s) => s.version === 9)?.statements?.some((st) => st.sql.startsWith('CREATE TABLE object_busy')));
        assert.equal(report.objectRows, 150);
        assert.ok(report.load.requests > 0, 'the synthetic load ran against the copy');
        assert.equal(report.load.errors, 0);
        assert.equal(report.passed, report.longestLockMs <= 100);
        assert.deepEqual(readAppliedMigrations(live).map((m) => m.version), before, 'nothing ran on the live database');
      } finally {
        live.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('fails a step over its lock budget and says what to do instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-rehearse-'));
    try {
      await seeded(dir, 5);
      const live = new Database(join(dir, DATABASE_FILE));
      try {
        const report = await rehearse({ live, migrations: SQLITE_MIGRATIONS, migrationHash: 'h', version: 'v', loadRate: 0, lockBudgetMs: 0 });
        assert.equal(report.passed, false);
        const expand = report.failures.find((f) => f.startsWith('9-object-busy'));
        assert.match(expand ?? '', /over the 0 ms budget: .*side table keyed by the primary key/u);
      } finally {
        live.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
