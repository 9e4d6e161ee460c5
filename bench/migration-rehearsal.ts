// Measures the reference online migration (0009 object_busy expand + 0010 backfill) on a seeded
// database of N calendar objects at the schema before it, through the real rehearsal (online copy,
// synthetic client load, every pending phase timed), and compares with the naive way (ADD COLUMN on
// the STRICT objects table + CREATE INDEX under the lock). Prints the report as JSON lines.
// Usage: node bench/migration-rehearsal.ts [--objects 20000] [--load-rate 200] [--keep DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { decodeCalendarBytes } from '../src/ical/parse.ts';
import { validateCalendarObject } from '../src/ical/validate.ts';
import { migrationSetHash } from '../src/release/identity.ts';
import { rehearse } from '../src/release/rehearsal.ts';
import { contentEtag } from '../src/store/etag.ts';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations/index.ts';
import { DATABASE_FILE, SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { chance, generateCalendarItems, mulberry32, renderItem } from './generate.ts';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '20000' }, 'load-rate': { type: 'string', default: '200' }, keep: { type: 'string' } } });
const objects = Number(values.objects);
const perCalendar = 1000;
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'almanac-rehearsal-bench-'));
const before = SQLITE_MIGRATIONS.filter((m) => m.version < 9);

/** Seeds users with one calendar of up to 1,000 objects each; ~10% transparent, ~3% cancelled. */
async function seed(): Promise<void> {
  const store = SqliteStore.open({ dataDir: dir, migrations: before });
  const random = mulberry32(7);
  const calendars: number[] = [];
  for (let u = 0; u * perCalendar < objects; u++) {
    const user = await store.createUser({ name: `user${u}`, email: null, displayName: null, passwordHash: null });
    await store.ensureHomes(user.id, [{ path: `/calendars/user${u}/`, kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
    const calendar = await store.getCollection(`/calendars/user${u}/default/`);
    if (calendar !== null) calendars.push(calendar.id);
  }
  await store.close();
  const db = new Database(join(dir, DATABASE_FILE));
  db.pragma('journal_mode = WAL');
  const insert = db.prepare(
    `INSERT INTO objects (collection_id, name, content_type, body, etag, size, uid, component, first_start, last_end, created_at, modified_at)
     VALUES (?, ?, 'text/calendar', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const count = db.prepare('UPDATE collections SET object_count = object_count + ?, bytes_used = bytes_used + ? WHERE id = ?');
  const items = generateCalendarItems(objects, 11);
  db.transaction(() => {
    items.forEach((item, i) => {
      let text = renderItem(item);
      if (item.kind === 'event' && chance(random, 0.13)) text = text.replace('END:VEVENT', chance(random, 0.75) ? 'TRANSP:TRANSPARENT\r\nEND:VEVENT' : 'STATUS:CANCELLED\r\nEND:VEVENT');
      const body = Buffer.from(text);
      const { info } = validateCalendarObject(decodeCalendarBytes(body));
      const collection = calendars[Math.floor(i / perCalendar)] ?? 0;
      insert.run(collection, item.name, body, contentEtag(body), body.byteLength, info.uid, info.componentType, info.firstStart, info.lastEnd, Date.now(), Date.now());
      count.run(1, body.byteLength, collection);
    });
  })();
  db.close();
}

/** The naive migration on a copy, for comparison: what the lint forbids, timed. */
function naive(file: string): { addColumnMs: number; createIndexMs: number } {
  const copy = join(dir, 'naive.sqlite3');
  rmSync(copy, { force: true });
  const live = new Database(file);
  live.exec(`VACUUM INTO '${copy.replace(/'/gu, "''")}'`);
  live.close();
  const db = new Database(copy);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  let t = performance.now();
  db.transaction(() => db.exec('ALTER TABLE objects ADD COLUMN fb_busy INTEGER')).immediate();
  const addColumnMs = performance.now() - t;
  t = performance.now();
  db.transaction(() => db.exec('CREATE INDEX objects_busy ON objects(collection_id, fb_busy, last_end, first_start)')).immediate();
  const createIndexMs = performance.now() - t;
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
  return { addColumnMs, createIndexMs };
}

const seedStarted = performance.now();
await seed();
const file = join(dir, DATABASE_FILE);
console.log(JSON.stringify({ bench: 'migration-rehearsal', objects, seedMs: Math.round(performance.now() - seedStarted) }));
const live = new Database(file);
const report = await rehearse({ live, migrations: SQLITE_MIGRATIONS, migrationHash: migrationSetHash(), version: 'bench', loadRate: Number(values['load-rate']) });
live.close();
for (const step of report.steps) {
  console.log(JSON.stringify({ step: `${step.version}-${step.name}`, phase: step.phase, wallMs: Number(step.wallMs.toFixed(1)), longestLockMs: Number(step.longestLockMs.toFixed(2)), rows: step.rows, batches: step.batches, batchLockMs: step.batchLockMs, rowsPerSecond: step.rowsPerSecond === undefined ? undefined : Math.round(step.rowsPerSecond) }));
}
const backfill = report.steps.find((s) => s.phase === 'backfill' && (s.rows ?? 0) > 0);
console.log(
  JSON.stringify({
    passed: report.passed,
    longestLockMs: Number(report.longestLockMs.toFixed(2)),
    copyMs: Math.round(report.copyMs),
    totalMs: Math.round(report.totalMs),
    estimatedMs: Math.round(report.estimatedMs),
    estimatedFor1MObjectsS: backfill?.rowsPerSecond === undefined ? null : Math.round(1_000_000 / backfill.rowsPerSecond),
    load: { ...report.load, p50Ms: Number(report.load.p50Ms.toFixed(2)), p99Ms: Number(report.load.p99Ms.toFixed(2)), maxMs: Number(report.load.maxMs.toFixed(2)) },
  }),
);
const naiveTimes = naive(file);
console.log(JSON.stringify({ naive: 'ADD COLUMN + CREATE INDEX under the lock', addColumnMs: Number(naiveTimes.addColumnMs.toFixed(1)), createIndexMs: Number(naiveTimes.createIndexMs.toFixed(1)), per1MObjectsMs: Math.round(((naiveTimes.addColumnMs + naiveTimes.createIndexMs) * 1_000_000) / objects) }));
if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
