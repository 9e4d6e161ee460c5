// Repeated large listings of an unchanged collection are answered from the previous answer's bytes
// (src/dav/listing-cache.ts). What a client observes must not change: every write, from this process
// or from another one on the same database, is in the next listing; dead properties are always
// current; a collection deleted and made again at the same path is listed as it is now.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SLICE } from '../../src/dav/pacing.ts';
import { clark, dav } from '../../src/dav/xml/names.ts';
import { textContent } from '../../src/dav/xml/tree.ts';
import { listedEtags, mkcalendar } from '../support/dav-fixtures.ts';
import { Harness, parseMultistatus, propfindBody } from '../support/harness.ts';

const CALENDAR = '/calendars/alice/big/';
const COUNT = SLICE + 100;
const SYNC_INITIAL = '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>';
const ETAGS = propfindBody(dav('getetag'), dav('getcontenttype'));

function eventBody(uid: string, summary = uid): Uint8Array {
  return Buffer.from(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Almanac tests//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
}

void describe('repeated large listings', () => {
  let h: Harness;
  let expected: Map<string, string>;

  /** Fills the calendar as another process would (straight into the store); returns href → ETag. */
  async function fill(summary: string): Promise<Map<string, string>> {
    const calendar = await h.store.getCollection(CALENDAR);
    assert.ok(calendar);
    const etags = new Map<string, string>();
    for (let i = 0; i < COUNT; i++) {
      const name = `event-${String(i).padStart(4, '0')}.ics`;
      const { object } = await h.store.putObject({ collectionId: calendar.id, name, body: eventBody(`uid-${i}`, summary), contentType: 'text/calendar; charset=utf-8', metadata: { uid: `uid-${i}`, component: 'VEVENT' } });
      etags.set(`${CALENDAR}${name}`, object.etag);
    }
    return etags;
  }

  const listed = (text: string): Map<string, string> => listedEtags(text, CALENDAR);
  const propfind = async (body = ETAGS, headers: Record<string, string> = {}): Promise<string> => {
    const response = await h.send('PROPFIND', CALENDAR, { headers: { depth: '1', ...headers }, body });
    assert.equal(response.status, 207, response.text.slice(0, 300));
    return response.text;
  };
  const sync = async (): Promise<{ members: Map<string, string>; token: string }> => {
    const response = await h.send('REPORT', CALENDAR, { headers: { depth: '1' }, body: SYNC_INITIAL });
    assert.equal(response.status, 207, response.text.slice(0, 300));
    const token = /<d:sync-token>([^<]+)<\/d:sync-token>/u.exec(response.text)?.[1];
    assert.ok(token !== undefined);
    return { members: listed(response.text), token };
  };

  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkcalendar(h, CALENDAR)).status, 201);
    expected = await fill('first');
  });
  after(async () => h.close());

  void it('gives the same answer to the same PROPFIND, and sees every write made since', async () => {
    const first = await propfind();
    assert.deepEqual(listed(first), expected);
    assert.equal(await propfind(), first);
    // Through HTTP: an update and a deletion.
    const update = await h.send('PUT', `${CALENDAR}event-0003.ics`, { headers: { 'content-type': 'text/calendar' }, body: eventBody('uid-3', 'changed') });
    assert.equal(update.status, 204);
    const calendar = (await h.store.getCollection(CALENDAR))!;
    const updated = await h.store.getObject(calendar.id, 'event-0003.ics');
    assert.notEqual(updated?.etag, expected.get(`${CALENDAR}event-0003.ics`));
    expected.set(`${CALENDAR}event-0003.ics`, updated?.etag ?? '');
    assert.equal((await h.send('DELETE', `${CALENDAR}event-0004.ics`)).status, 204);
    expected.delete(`${CALENDAR}event-0004.ics`);
    assert.deepEqual(listed(await propfind()), expected);
    // Straight into the store, as another node on the same database writes.
    const { object } = await h.store.putObject({ collectionId: calendar.id, name: 'other-node.ics', body: eventBody('other'), contentType: 'text/calendar; charset=utf-8', metadata: { uid: 'other', component: 'VEVENT' } });
    expected.set(`${CALENDAR}other-node.ics`, object.etag);
    assert.deepEqual(listed(await propfind()), expected);
    assert.deepEqual(listed(await propfind()), expected);
  });

  void it('keeps dead properties current: PROPPATCH on a member moves no change position', async () => {
    const note = clark('urn:example:test', 'note');
    const body = propfindBody(dav('getetag'), note);
    const before = parseMultistatus(await propfind(body)).find((r) => r.href === `${CALENDAR}event-0007.ics`);
    assert.equal(before?.props.get(note)?.status, 'HTTP/1.1 404 Not Found');
    const patch = '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:T="urn:example:test"><D:set><D:prop><T:note>hello</T:note></D:prop></D:set></D:propertyupdate>';
    assert.equal((await h.send('PROPPATCH', `${CALENDAR}event-0007.ics`, { body: patch })).status, 207);
    const after = parseMultistatus(await propfind(body)).find((r) => r.href === `${CALENDAR}event-0007.ics`);
    assert.equal(textContent(after?.props.get(note)?.element ?? { type: 'element', name: dav('x'), attributes: new Map(), children: [] }), 'hello');
    assert.deepEqual(listed(await propfind()), expected);
  });

  void it('answers an initial sync-collection again with the same members and token, and a new token after a write', async () => {
    const first = await sync();
    assert.deepEqual(first.members, expected);
    assert.deepEqual(await sync(), first);
    assert.equal((await h.send('DELETE', `${CALENDAR}event-0010.ics`)).status, 204);
    expected.delete(`${CALENDAR}event-0010.ics`);
    const next = await sync();
    assert.deepEqual(next.members, expected);
    assert.notEqual(next.token, first.token);
  });

  void it('lists a calendar deleted and made again at the same path as it is now', async () => {
    assert.deepEqual(listed(await propfind()), expected);
    const before = await sync();
    const old = (await h.store.getCollection(CALENDAR))!;
    assert.equal((await h.send('DELETE', CALENDAR)).status, 204);
    assert.equal((await mkcalendar(h, CALENDAR)).status, 201);
    expected = await fill('second');
    // Rewritten until its change position is the old one's again (SQLite may even reuse the id).
    const made = (await h.store.getCollection(CALENDAR))!;
    for (let seq = made.syncSeq; seq < old.syncSeq; seq++) {
      await h.store.putObject({ collectionId: made.id, name: 'event-0000.ics', body: eventBody('uid-0', `again ${seq}`), contentType: 'text/calendar; charset=utf-8', metadata: { uid: 'uid-0', component: 'VEVENT' } });
    }
    const now = (await h.store.getCollection(CALENDAR))!;
    assert.equal(now.syncSeq, old.syncSeq);
    expected.set(`${CALENDAR}event-0000.ics`, (await h.store.getObject(now.id, 'event-0000.ics'))?.etag ?? '');
    assert.deepEqual(listed(await propfind()), expected);
    const after = await sync();
    assert.deepEqual(after.members, expected);
    assert.notDeepEqual(after.members, before.members);
  });
});
