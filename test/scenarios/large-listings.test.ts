// Listings of large collections (PROPFIND Depth 1, initial sync-collection) are evaluated in slices
// with the event loop served in between: other work runs meanwhile, yet each answer still lists
// exactly the one snapshot it read, whatever is written while it is being built.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dav } from '../../src/dav/xml/names.ts';
import { SLICE } from '../../src/dav/pacing.ts';
import type { CollectionRecord } from '../../src/store/types.ts';
import { listedEtags } from '../support/dav-fixtures.ts';
import { Harness, propfindBody } from '../support/harness.ts';

const CALENDAR = '/calendars/alice/default/';
const COUNT = SLICE * 2 + 300;
const SYNC_INITIAL = '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>';

function eventBody(uid: string): Uint8Array {
  return Buffer.from(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Almanac tests//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nSUMMARY:${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
}

void describe('listings larger than one slice', () => {
  let h: Harness;
  let calendar: CollectionRecord;
  const etags = new Map<string, string>();

  before(async () => {
    h = await Harness.start(['alice']);
    // The first authenticated request creates the homes (and fills the credentials cache).
    assert.equal((await h.send('PROPFIND', CALENDAR, { headers: { depth: '0' } })).status, 207);
    const found = await h.store.getCollection(CALENDAR);
    assert.ok(found);
    calendar = found;
    for (let i = 0; i < COUNT; i++) {
      const name = `event-${String(i).padStart(4, '0')}.ics`;
      const { object } = await h.store.putObject({ collectionId: calendar.id, name, body: eventBody(`uid-${i}`), contentType: 'text/calendar; charset=utf-8', metadata: { uid: `uid-${i}`, component: 'VEVENT' } });
      etags.set(`${CALENDAR}${name}`, object.etag);
    }
  });
  after(async () => h.close());

  const listed = (text: string): Map<string, string> => listedEtags(text, CALENDAR);

  /** Sends a request while counting event-loop turns and writing one new object on the first turn. */
  const whileWriting = async (method: string, body: string, newName: string): Promise<{ text: string; turns: number }> => {
    let done = false;
    let turns = 0;
    let wrote: Promise<unknown> | undefined;
    const tick = (): void => {
      if (done) return;
      turns++;
      wrote ??= h.store.putObject({ collectionId: calendar.id, name: newName, body: eventBody(newName), contentType: 'text/calendar; charset=utf-8', metadata: { uid: newName, component: 'VEVENT' } });
      setImmediate(tick);
    };
    const answer = h.send(method, CALENDAR, { headers: { depth: '1' }, body });
    setImmediate(tick);
    const response = await answer;
    done = true;
    await wrote;
    assert.equal(response.status, 207, response.text.slice(0, 500));
    return { text: response.text, turns };
  };

  void it('PROPFIND Depth 1 serves the event loop while it builds, and lists exactly the snapshot it read', async () => {
    const { text, turns } = await whileWriting('PROPFIND', propfindBody(dav('getetag')), 'written-during-propfind.ics');
    assert.ok(turns >= 2, `the event loop turned ${turns} times while ${COUNT} members were listed`);
    assert.deepEqual(listed(text), etags);
    const next = listed((await h.send('PROPFIND', CALENDAR, { headers: { depth: '1' }, body: propfindBody(dav('getetag')) })).text);
    assert.equal(next.has(`${CALENDAR}written-during-propfind.ics`), true);
    await h.store.deleteObject(calendar.id, 'written-during-propfind.ics');
  });

  void it('an initial sync-collection does the same, and its token leads to the write it did not include', async () => {
    const { text, turns } = await whileWriting('REPORT', SYNC_INITIAL, 'written-during-sync.ics');
    assert.ok(turns >= 2, `the event loop turned ${turns} times while ${COUNT} members were listed`);
    assert.deepEqual(listed(text), etags);
    const token = /<d:sync-token>([^<]+)<\/d:sync-token>/u.exec(text)?.[1];
    assert.ok(token !== undefined);
    const incremental = SYNC_INITIAL.replace('<D:sync-token/>', `<D:sync-token>${token}</D:sync-token>`);
    const changes = listed((await h.send('REPORT', CALENDAR, { headers: { depth: '1' }, body: incremental })).text);
    assert.deepEqual([...changes.keys()], [`${CALENDAR}written-during-sync.ics`]);
  });

  void it('answers many large listings asked at once, each complete', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => h.send('PROPFIND', CALENDAR, { headers: { depth: '1' }, body: propfindBody(dav('getetag')) })));
    const expected = listed(answers[0]?.text ?? '');
    assert.equal(expected.size, COUNT + 1);
    for (const answer of answers) assert.deepEqual(listed(answer.text), expected);
  });
});
