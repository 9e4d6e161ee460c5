// The object_busy contract scenario both stores go through (test/scenarios/object-busy-contract*.test.ts):
// the calendars a client fills before the migration, the writes it makes after the contract step
// dropped the compatibility triggers (puts, updates, deletes, moves, copies, overwrites, a calendar
// delete), the free-busy answers it reads, and a check of every object_busy row against a
// recomputation from the object itself with the backfill's own rule (as bench/migration-proof.ts does).
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migration as busyBackfill } from '../../src/store/sqlite/migrations/0010-object-busy-backfill.ts';
import type { Store } from '../../src/store/store.ts';

export type Send = (method: string, target: string, body?: string, headers?: Record<string, string>) => Promise<{ status: number; text: string }>;

export const HOME = '/calendars/alice/';

function calendar(component: string, uid: string, lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', `BEGIN:${component}`, `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, `END:${component}`, 'END:VCALENDAR', ''].join('\r\n');
}

const event = (uid: string, lines: string[]): string => calendar('VEVENT', uid, lines);

/** What the client stores before the migration, per calendar. */
const SEED: Record<string, Record<string, string>> = {
  default: {
    'weekly.ics': event('weekly', ['DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'RRULE:FREQ=WEEKLY']),
    'birthday.ics': event('birthday', ['DTSTART;VALUE=DATE:20000107', 'RRULE:FREQ=YEARLY', 'TRANSP:TRANSPARENT']),
    'cancelled.ics': event('cancelled', ['DTSTART:20260106T120000Z', 'DTEND:20260106T130000Z', 'STATUS:CANCELLED']),
    'tentative.ics': event('tentative', ['DTSTART:20260107T150000Z', 'DTEND:20260107T160000Z', 'STATUS:TENTATIVE']),
    'task.ics': calendar('VTODO', 'task', ['DUE:20260106T090000Z']),
  },
  work: {
    'meeting.ics': event('meeting', ['DTSTART:20260108T090000Z', 'DTEND:20260108T100000Z']),
    'standup.ics': event('standup', ['DTSTART:20260105T083000Z', 'DTEND:20260105T084500Z', 'RRULE:FREQ=DAILY;COUNT=5']),
  },
  trash: {
    'old.ics': event('old', ['DTSTART:20260109T090000Z', 'DTEND:20260109T100000Z']),
    'older.ics': event('older', ['DTSTART:20260110T090000Z', 'DTEND:20260110T100000Z']),
  },
};

function ok(what: string, answer: { status: number; text: string }, ...expected: number[]): void {
  assert.ok(expected.includes(answer.status), `${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
}

/** Creates the calendars and their objects (the user exists, its home is made on first access). */
export async function seed(send: Send): Promise<void> {
  for (const [name, objects] of Object.entries(SEED)) {
    if (name !== 'default') ok(`MKCALENDAR ${name}`, await send('MKCALENDAR', `${HOME}${name}/`), 201);
    for (const [file, body] of Object.entries(objects)) ok(`PUT ${name}/${file}`, await send('PUT', `${HOME}${name}/${file}`, body, { 'content-type': 'text/calendar' }), 201);
  }
}

/** The writes after the contract: every way an object enters, changes, moves or leaves a calendar. */
export async function writeAfterContract(send: Send): Promise<void> {
  const put = async (target: string, body: string, ...status: number[]): Promise<void> => ok(`PUT ${target}`, await send('PUT', `${HOME}${target}`, body, { 'content-type': 'text/calendar' }), ...status);
  await put('default/new-opaque.ics', event('new-opaque', ['DTSTART:20260106T070000Z', 'DTEND:20260106T080000Z']), 201);
  await put('default/new-transparent.ics', event('new-transparent', ['DTSTART:20260106T180000Z', 'DTEND:20260106T190000Z', 'TRANSP:TRANSPARENT']), 201);
  // Busy → never busy, and the other way round, on objects the backfill wrote.
  await put('default/tentative.ics', event('tentative', ['DTSTART:20260107T150000Z', 'DTEND:20260107T160000Z', 'TRANSP:TRANSPARENT']), 204);
  await put('default/birthday.ics', event('birthday', ['DTSTART;VALUE=DATE:20260107']), 204);
  await put('default/task2.ics', calendar('VTODO', 'task2', ['DUE:20260108T090000Z']), 201);
  ok('DELETE weekly', await send('DELETE', `${HOME}default/weekly.ics`), 204);
  ok('MOVE new-opaque', await send('MOVE', `${HOME}default/new-opaque.ics`, '', { destination: `${HOME}work/moved.ics` }), 201);
  ok('COPY meeting', await send('COPY', `${HOME}work/meeting.ics`, '', { destination: `${HOME}default/meeting-copy.ics` }), 201);
  // A move onto an existing object replaces it (the destination's row must go with it).
  ok('MOVE birthday over standup', await send('MOVE', `${HOME}default/birthday.ics`, '', { destination: `${HOME}work/standup.ics`, overwrite: 'T' }), 204);
  ok('DELETE trash', await send('DELETE', `${HOME}trash/`), 204);
}

/**
 * Deletes through the store what no DAV request deletes here: a user with everything they own, and
 * a home with the calendar below it (the rows of the whole subtree must go).
 */
export async function deleteOwners(store: Store): Promise<void> {
  for (const name of ['bob', 'carol']) {
    const user = await store.createUser({ name, email: null, displayName: null, passwordHash: null });
    await store.ensureHomes(user.id, [{ path: `/calendars/${name}/`, kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
    const calendar = await store.getCollection(`/calendars/${name}/default/`);
    assert.ok(calendar);
    const body = Buffer.from(event(`${name}-1`, ['DTSTART:20260106T070000Z', 'DTEND:20260106T080000Z']));
    await store.putObject({ collectionId: calendar.id, name: 'e.ics', body, contentType: 'text/calendar', metadata: { uid: `${name}-1`, component: 'VEVENT', mayBeBusy: true } });
  }
  assert.equal(await store.deleteUser('bob'), true);
  const home = await store.getCollection('/calendars/carol/');
  assert.ok(home);
  await store.deleteCollection(home.id);
}

const FREE_BUSY = '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260105T000000Z" end="20260112T000000Z"/></C:free-busy-query>';

/** The FREEBUSY lines of a free-busy-query on each calendar (DTSTAMP and the like left out). */
export async function freeBusy(send: Send): Promise<Record<string, string[]>> {
  const answers: Record<string, string[]> = {};
  for (const name of ['default', 'work']) {
    const answer = await send('REPORT', `${HOME}${name}/`, FREE_BUSY, { depth: '1', 'content-type': 'application/xml' });
    ok(`free-busy ${name}`, answer, 200);
    answers[name] = answer.text.split('\r\n').filter((l) => l.startsWith('FREEBUSY'));
  }
  return answers;
}

export interface BusyCheck {
  readonly objects: number;
  readonly rows: number;
  readonly missing: number;
  readonly wrong: number;
  readonly orphans: number;
  readonly examples: string[];
}

/** Each object's object_busy row against the backfill's recomputation, and rows whose object is gone. */
export function compareObjectBusy(objects: readonly Record<string, unknown>[], rows: readonly Record<string, unknown>[]): BusyCheck {
  const derive = busyBackfill.backfill?.derive;
  assert.ok(derive);
  const byObject = new Map(rows.map((r) => [Number(r.object_id), r]));
  const ids = new Set(objects.map((o) => Number(o.id)));
  const examples: string[] = [];
  let missing = 0;
  let wrong = 0;
  for (const object of objects) {
    const actual = byObject.get(Number(object.id));
    if (actual === undefined) {
      missing += 1;
      examples.push(`object ${String(object.id)} has no row`);
      continue;
    }
    const expected = derive(object) ?? {};
    const differs = Object.keys(expected).filter((k) => (expected[k] === null ? null : Number(expected[k])) !== (actual[k] === null || actual[k] === undefined ? null : Number(actual[k])));
    if (differs.length > 0) {
      wrong += 1;
      examples.push(`object ${String(object.id)}: ${differs.map((k) => `${k} ${String(actual[k])} instead of ${String(expected[k])}`).join(', ')}`);
    }
  }
  const orphans = rows.filter((r) => !ids.has(Number(r.object_id))).length;
  return { objects: objects.length, rows: rows.length, missing, wrong, orphans, examples };
}

/** The same check on a PostgreSQL database, in one snapshot. */
export async function verifyPostgresObjectBusy(url: string): Promise<BusyCheck> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const objects = (await client.query<Record<string, unknown>>('SELECT id, collection_id, component, body, first_start, last_end FROM objects')).rows;
    const rows = (await client.query<Record<string, unknown>>('SELECT object_id, collection_id, busy, first_start, last_end FROM object_busy')).rows;
    await client.query('COMMIT');
    return compareObjectBusy(objects, rows);
  } finally {
    await client.end();
  }
}

/** The same check on a SQLite database file, in one read transaction. */
export function verifySqliteObjectBusy(file: string): BusyCheck {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.transaction(() =>
      compareObjectBusy(
        db.prepare('SELECT id, collection_id, component, body, first_start, last_end FROM objects').all() as Record<string, unknown>[],
        db.prepare('SELECT object_id, collection_id, busy, first_start, last_end FROM object_busy').all() as Record<string, unknown>[],
      ),
    )();
  } finally {
    db.close();
  }
}

/**
 * The end of the scenario on both stores: the writes after the contract on the node under test and
 * on a reference database that never had object_busy, owners deleted on both, then every object_busy
 * row checked (9 objects are left) and the free-busy answers compared with the reference's and with
 * `before` (the writes must have changed them, or the comparison proves nothing).
 */
export async function writeAndCheckAfterContract(
  node: { readonly send: Send; readonly store: Store },
  reference: { readonly send: Send; readonly store: Store },
  verify: () => BusyCheck | Promise<BusyCheck>,
  before: Record<string, string[]>,
): Promise<void> {
  await writeAfterContract(node.send);
  await writeAfterContract(reference.send);
  // A user deleted with everything they own, and a home with the calendar below it.
  await deleteOwners(node.store);
  await deleteOwners(reference.store);
  const check = await verify();
  assert.deepEqual({ missing: check.missing, wrong: check.wrong, orphans: check.orphans }, { missing: 0, wrong: 0, orphans: 0 }, check.examples.join('\n'));
  assert.equal(check.rows, check.objects);
  assert.equal(check.objects, 9, '6 objects left in default, 3 in work');
  const after = await freeBusy(node.send);
  assert.deepEqual(after, await freeBusy(reference.send), 'free-busy answers are those of a database without object_busy');
  assert.notDeepEqual(after, before, 'the writes changed the answers (the comparison is not vacuous)');
}
