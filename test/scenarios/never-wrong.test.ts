// Invariant 1 and 2 (DESIGN.md §5): when the store cannot answer completely the client gets 503 with
// Retry-After — never an empty or short listing, never a 4xx that would make it drop the account.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { dav } from '../../src/dav/xml/names.ts';
import { DATABASE_FILE } from '../../src/store/sqlite/sqlite-store.ts';
import { announceStep, clearStep } from '../../src/store/sqlite/step-announcement.ts';
import { sqliteOnly } from '../support/test-store.ts';
import { Harness, parseMultistatus, propfindBody } from '../support/harness.ts';

const EVENT = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';

void describe('never a wrong answer', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    await h.send('PROPFIND', '/', { headers: { depth: '0' } });
    for (const name of ['a.ics', 'b.ics', 'c.ics']) {
      const put = await h.send('PUT', `/calendars/alice/default/${name}`, { headers: { 'content-type': 'text/calendar' }, body: EVENT.replace('UID:e1', `UID:${name}`) });
      assert.equal(put.status, 201);
    }
  });
  after(async () => h.close());

  void it('answers 503 with Retry-After while another process holds the write lock, then succeeds', { skip: sqliteOnly('holds SQLite’s file lock') }, async () => {
    const other = new Database(join(h.dir, DATABASE_FILE));
    other.exec('BEGIN IMMEDIATE');
    let locked;
    try {
      locked = await h.send('PUT', '/calendars/alice/default/d.ics', { headers: { 'content-type': 'text/calendar' }, body: EVENT.replace('UID:e1', 'UID:d') });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    assert.equal(locked.status, 503);
    assert.ok(Number(locked.headers['Retry-After']) >= 1);
    const retried = await h.send('PUT', '/calendars/alice/default/d.ics', { headers: { 'content-type': 'text/calendar' }, body: EVENT.replace('UID:e1', 'UID:d') });
    assert.equal(retried.status, 201);
  });

  void it('derives Retry-After from the rehearsed duration of the migration step holding the lock', { skip: sqliteOnly('holds SQLite’s file lock') }, async () => {
    const file = join(h.dir, DATABASE_FILE);
    const other = new Database(file);
    // What the migrator does around a step: announce it with its rehearsed time, then take the lock.
    announceStep(file, { version: 42, name: 'slow-step', pid: process.pid, startedAt: Date.now(), expectedMs: 40_000 });
    other.exec('BEGIN IMMEDIATE');
    let locked;
    try {
      // Readers go on under WAL; a write waits for the lock.
      locked = await h.send('PUT', '/calendars/alice/default/e.ics', { headers: { 'content-type': 'text/calendar' }, body: EVENT.replace('UID:e1', 'UID:e') });
    } finally {
      other.exec('ROLLBACK');
      other.close();
      clearStep(file);
    }
    assert.equal(locked.status, 503);
    const seconds = Number(locked.headers['Retry-After']);
    assert.ok(seconds >= 30 && seconds <= 40, `Retry-After ${seconds} follows the step's remaining ~38 s`);
  });

  void it('refuses a Depth 1 listing that would be shorter than the collection holds', { skip: sqliteOnly('deletes rows in SQLite’s file behind the store') }, async () => {
    const full = parseMultistatus((await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '1' }, body: propfindBody(dav('getetag')) })).text);
    assert.equal(full.length, 5);
    const other = new Database(join(h.dir, DATABASE_FILE));
    other.prepare("DELETE FROM objects WHERE name = 'b.ics'").run();
    other.close();
    const short = await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '1' }, body: propfindBody(dav('getetag')) });
    assert.equal(short.status, 503);
    assert.ok(Number(short.headers['Retry-After']) >= 1);
    assert.doesNotMatch(short.text, /multistatus/u);
  });
});
