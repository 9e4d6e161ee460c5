// The reference online migration (0009 expand, 0010 backfill): free-busy-query gives the same answer
// on the previous schema, after the expand while the backfill has not run, and after it; then only
// objects that can add busy time are read. Writes of the new release fill object_busy themselves,
// and writes of a previous release (which knows nothing of it) only make a row "unknown", never wrong.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pino from 'pino';
import { hashPassword } from '../../src/auth/passwords.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import { buildDavServer } from '../../src/http/app.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';
import { DATABASE_FILE, SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

const AUTH = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
const CAL = '/calendars/alice/default/';
const BEFORE_OBJECT_BUSY = SQLITE_MIGRATIONS.filter((m) => m.version < 9);
const EXPAND_ONLY = SQLITE_MIGRATIONS.filter((m) => m.version < 10);
// The triggers that cover a previous release's writes stay until the contract step 0013 (tested in
// object-busy-contract.test.ts), which runs only once no live node of such a release is left.
const BEFORE_CONTRACT = SQLITE_MIGRATIONS.filter((m) => m.phase !== 'contract');

function event(uid: string, lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

const OBJECTS: Record<string, string> = {
  'weekly.ics': event('weekly', ['DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'RRULE:FREQ=WEEKLY']),
  'birthday.ics': event('birthday', ['DTSTART;VALUE=DATE:20000107', 'RRULE:FREQ=YEARLY', 'TRANSP:TRANSPARENT']),
  'cancelled.ics': event('cancelled', ['DTSTART:20260106T120000Z', 'DTEND:20260106T130000Z', 'STATUS:CANCELLED']),
  'tentative.ics': event('tentative', ['DTSTART:20260107T150000Z', 'DTEND:20260107T160000Z', 'STATUS:TENTATIVE']),
  'task.ics': ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VTODO', 'UID:task', 'DTSTAMP:20260101T000000Z', 'DUE:20260106T090000Z', 'END:VTODO', 'END:VCALENDAR', ''].join('\r\n'),
};

async function session(dir: string, migrations: typeof SQLITE_MIGRATIONS, work: (send: (method: string, target: string, body?: string, extra?: Record<string, string>) => Promise<{ status: number; text: string }>, store: SqliteStore) => Promise<void>): Promise<void> {
  const store = SqliteStore.open({ dataDir: dir, migrations });
  try {
    const dav = buildDavServer(store, { ...DEFAULTS, data: dir, logLevel: 'silent' }, pino({ level: 'silent' }));
    const send = async (method: string, target: string, body = '', extra: Record<string, string> = {}) => {
      const headers: Record<string, string> = { authorization: AUTH, 'content-type': 'text/calendar', depth: '1', ...extra };
      const { response } = await dav.handle({ method, target, headers, body: Buffer.from(body), requestId: 't', clientAddress: '127.0.0.1' });
      return { status: response.status, text: typeof response.body === 'string' ? response.body : Buffer.from(response.body ?? new Uint8Array()).toString() };
    };
    await work(send, store);
  } finally {
    await store.close();
  }
}

const FREE_BUSY = '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260105T000000Z" end="20260112T000000Z"/></C:free-busy-query>';
const busyLines = (text: string): string[] => text.split('\r\n').filter((l) => l.startsWith('FREEBUSY'));

async function candidates(store: SqliteStore): Promise<string[]> {
  const calendar = await store.getCollection(CAL);
  assert.ok(calendar);
  return (await store.queryObjects(calendar.id, { overlapping: { start: Date.UTC(2026, 0, 5), end: Date.UTC(2026, 0, 12) }, mayBeBusy: true })).map((o) => o.name).sort();
}

void describe('reference migration: object_busy for free-busy-query', () => {
  void it('answers the same before the expand, between expand and backfill, and after, reading fewer objects at the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-object-busy-'));
    try {
      let expected: string[] = [];
      await session(dir, BEFORE_OBJECT_BUSY, async (send, store) => {
        await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: await hashPassword('pw') });
        for (const [name, body] of Object.entries(OBJECTS)) assert.equal((await send('PUT', `${CAL}${name}`, body)).status, 201);
        const answer = await send('REPORT', CAL, FREE_BUSY);
        assert.equal(answer.status, 200);
        expected = busyLines(answer.text);
        assert.equal(expected.length, 2, 'the weekly event and the tentative one');
      });
      await session(dir, EXPAND_ONLY, async (send, store) => {
        assert.deepEqual(busyLines((await send('REPORT', CAL, FREE_BUSY)).text), expected, 'same answer after the expand');
        assert.equal((await candidates(store)).length, 5, 'the index is not used before the backfill covered every object');
        // The new release's write path fills object_busy for what it writes during the backfill.
        assert.equal((await send('PUT', `${CAL}holiday.ics`, event('holiday', ['DTSTART;VALUE=DATE:20260108', 'TRANSP:TRANSPARENT']))).status, 201);
        // A copy of an object the backfill has not reached yet (no row to copy the answer from).
        assert.equal((await send('MKCALENDAR', '/calendars/alice/other/')).status, 201);
        const copied = await send('COPY', `${CAL}task.ics`, '', { destination: '/calendars/alice/other/task.ics', depth: '0' });
        assert.equal(copied.status, 201, copied.text);
        assert.equal((await send('DELETE', '/calendars/alice/other/')).status, 204);
      });
      await session(dir, BEFORE_CONTRACT, async (send, store) => {
        assert.ok(store.releaseRecords().applied.includes(10), 'the backfill ran');
        assert.deepEqual(await candidates(store), ['tentative.ics', 'weekly.ics'], 'transparent, cancelled and tasks are not read');
        assert.deepEqual(busyLines((await send('REPORT', CAL, FREE_BUSY)).text), expected);
        assert.equal((await send('DELETE', `${CAL}weekly.ics`)).status, 204);
        assert.deepEqual(await candidates(store), ['tentative.ics'], 'a delete leaves object_busy');
      });
      // Rollback: a previous release (which knows nothing of object_busy) makes the transparent
      // holiday opaque. The trigger marks its row unknown, so free-busy reads it instead of missing it.
      const raw = new Database(join(dir, DATABASE_FILE));
      raw.prepare("UPDATE objects SET etag = 'old-release', body = ? WHERE name = 'holiday.ics'").run(Buffer.from(event('holiday', ['DTSTART;VALUE=DATE:20260108'])));
      raw.close();
      await session(dir, BEFORE_CONTRACT, async (send, store) => {
        assert.deepEqual(await candidates(store), ['holiday.ics', 'tentative.ics']);
        const answer = busyLines((await send('REPORT', CAL, FREE_BUSY)).text);
        assert.ok(answer.some((l) => l.includes('20260108T000000Z/20260109T000000Z')), answer.join('\n'));
        assert.equal((await send('DELETE', CAL)).status, 204);
        const raw = new Database(join(dir, DATABASE_FILE), { readonly: true });
        const left = raw.prepare('SELECT count(*) AS n FROM object_busy').get() as { n: number };
        raw.close();
        assert.equal(left.n, 0, 'deleting the calendar (ON DELETE CASCADE) removed its rows');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
