// CalDAV writes as a client sees them (RFC 4791 §5.3.2.1, §5.3.1): every PUT precondition with its
// error element, time zone ids, byte-exact storage with strong ETags, conditional requests, and the
// ways MKCALENDAR fails.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caldav, dav } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { childElements, findChild, textContent } from '../../src/dav/xml/tree.ts';
import { errorConditions, Harness, propfindBody, type TestResponse } from '../support/harness.ts';
import {
  calendarQueryBody, compFilter, corpusBytes, creationPropstats, event, ics, mkcalendar, NS_DECL, propsOf, report, TEXT_CALENDAR, timeRange, todo, XML,
} from '../support/dav-fixtures.ts';

const CAL = '/calendars/alice/default/';

function bodyBytes(response: TestResponse): Buffer {
  const body = response.raw.body;
  return body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
}

async function refused(h: Harness, path: string, body: string | Uint8Array, headers: Record<string, string> = TEXT_CALENDAR): Promise<{ status: number; conditions: string[]; text: string }> {
  const response = await h.send('PUT', path, { headers, body });
  const conditions = response.text.startsWith('<?xml') ? errorConditions(response.text) : [];
  // A refused PUT leaves nothing behind.
  assert.equal((await h.send('GET', path)).status, 404, `${path} must not exist after a refused PUT`);
  return { status: response.status, conditions, text: response.text };
}

void describe('CalDAV PUT preconditions', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice', 'bob']);
  });
  after(async () => h.close());

  void it('refuses what is not iCalendar with 403 valid-calendar-data, hand-made and corpus bodies alike', async () => {
    const cases: [string, string | Uint8Array][] = [
      ['garbage', 'this is not a calendar\r\n'],
      ['vcard', 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:X\r\nEND:VCARD\r\n'],
      ['no-version', 'BEGIN:VCALENDAR\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:nv\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'],
      ['unclosed', 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T100000Z\r\n'],
      ['end-before-start', event('ebs', ['DTSTART:20260101T100000Z', 'DTEND:20260101T090000Z'])],
      ['bad-date', event('bd', ['DTSTART:20261345T100000Z'])],
      ['bad-rrule', event('br', ['DTSTART:20260101T100000Z', 'RRULE:FREQ=FORTNIGHTLY'])],
      ['event-without-dtstart', event('nodt', ['SUMMARY:When?'])],
      ['truncated-moonphase', corpusBytes('broken/ical4j__13-MoonPhase.ics')],
      ['broken-dtstart', corpusBytes('broken/icalendar__broken_dtstart.ics')],
      ['overflowing-duration', corpusBytes('broken/icalendar__invalid_duration.ics')],
      ['latin1-garbage', corpusBytes('broken/libical__crash.ics')],
      ['bare-vevent', corpusBytes('broken/libical__test-data-8.ics')],
      ['invalid-freq', corpusBytes('broken/icalendar__issue_1081_invalid_rrule_freq.ics')],
      ['nul-in-name', corpusBytes('broken/icalendar__fuzz_testcase_0_char_in_component_name.ics')],
      ['two-vcalendars', corpusBytes('ical/icaljs__multiple_root_components.ics')],
    ];
    for (const [name, body] of cases) {
      const result = await refused(h, `${CAL}${name}.ics`, body);
      assert.equal(result.status, 403, `${name}: ${result.text}`);
      assert.deepEqual(result.conditions, [caldav('valid-calendar-data')], name);
    }
  });

  void it('says what is wrong with refused calendar data, not just which precondition failed', async () => {
    const response = await h.send('PUT', `${CAL}explain.ics`, { headers: TEXT_CALENDAR, body: corpusBytes('broken/icalendar__broken_dtstart.ics') });
    assert.equal(response.status, 403);
    assert.deepEqual(errorConditions(response.text), [caldav('valid-calendar-data')]);
    // The issue asks for "a readable description": the reason must reach the client somewhere in the answer.
    assert.match(response.text, /DTSTART/u, `no description in: ${response.text}`);
  });

  void it('refuses objects breaking the CalDAV object rules with valid-calendar-object-resource', async () => {
    const cases: [string, string | Uint8Array][] = [
      ['two-uids', ics(
        'BEGIN:VEVENT', 'UID:one', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260310T090000Z', 'END:VEVENT',
        'BEGIN:VEVENT', 'UID:two', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260311T090000Z', 'END:VEVENT',
      )],
      ['two-masters', ics(
        'BEGIN:VEVENT', 'UID:same', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260310T090000Z', 'END:VEVENT',
        'BEGIN:VEVENT', 'UID:same', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260311T090000Z', 'END:VEVENT',
      )],
      ['method', event('m', ['DTSTART:20260310T090000Z']).replace('VERSION:2.0\r\n', 'VERSION:2.0\r\nMETHOD:REQUEST\r\n')],
      ['mixed', ics(
        'BEGIN:VEVENT', 'UID:mix', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260310T090000Z', 'END:VEVENT',
        'BEGIN:VTODO', 'UID:mix', 'DTSTAMP:20260101T000000Z', 'SUMMARY:t', 'END:VTODO',
      )],
      ['no-uid', ics('BEGIN:VEVENT', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260310T090000Z', 'END:VEVENT')],
      ['only-timezone', ics('BEGIN:VTIMEZONE', 'TZID:Fixed', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0100', 'END:STANDARD', 'END:VTIMEZONE')],
      ['corpus-exchange-request', corpusBytes('broken/ical4j__tmeher.ics')],
      ['corpus-export', corpusBytes('ical/ical4j__korganizer_sample.ics')],
    ];
    for (const [name, body] of cases) {
      const result = await refused(h, `${CAL}${name}.ics`, body);
      assert.equal(result.status, 403, `${name}: ${result.text}`);
      assert.deepEqual(result.conditions, [caldav('valid-calendar-object-resource')], name);
    }
    // A master with an override of the same UID is one resource.
    const series = ics(
      'BEGIN:VEVENT', 'UID:series', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260310T090000Z', 'RRULE:FREQ=DAILY;COUNT=3', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:series', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID:20260311T090000Z', 'DTSTART:20260311T120000Z', 'END:VEVENT',
    );
    assert.equal((await h.send('PUT', `${CAL}series.ics`, { headers: TEXT_CALENDAR, body: series })).status, 201);
  });

  void it('enforces supported-calendar-component-set for events-only and tasks-only calendars', async () => {
    assert.equal((await mkcalendar(h, '/calendars/alice/events/', { components: ['VEVENT'] })).status, 201);
    assert.equal((await mkcalendar(h, '/calendars/alice/tasks/', { components: ['VTODO'] })).status, 201);
    const anEvent = event('ev', ['DTSTART:20260310T090000Z', 'DTEND:20260310T100000Z']);
    const aTask = todo('tk', ['DUE:20260310T090000Z']);
    const aJournal = ics('BEGIN:VJOURNAL', 'UID:jr', 'DTSTAMP:20260101T000000Z', 'DTSTART;VALUE=DATE:20260310', 'SUMMARY:Notes', 'END:VJOURNAL');

    for (const [path, body] of [['/calendars/alice/events/t.ics', aTask], ['/calendars/alice/tasks/e.ics', anEvent], [`${CAL}j.ics`, aJournal]] as const) {
      const result = await refused(h, path, body);
      assert.equal(result.status, 403, `${path}: ${result.text}`);
      assert.deepEqual(result.conditions, [caldav('supported-calendar-component')], path);
    }
    assert.equal((await h.send('PUT', '/calendars/alice/events/e.ics', { headers: TEXT_CALENDAR, body: anEvent })).status, 201);
    assert.equal((await h.send('PUT', '/calendars/alice/tasks/t.ics', { headers: TEXT_CALENDAR, body: aTask })).status, 201);

    const comps = async (path: string): Promise<string[]> => {
      const props = await propsOf(h, path, propfindBody(caldav('supported-calendar-component-set')));
      return childElements(props.get(caldav('supported-calendar-component-set'))!.element).map((c) => c.attributes.get('{}name' as never) ?? '');
    };
    assert.deepEqual(await comps('/calendars/alice/events/'), ['VEVENT']);
    assert.deepEqual(await comps('/calendars/alice/tasks/'), ['VTODO']);
    // The set is fixed at creation (RFC 4791 §5.2.3).
    const change = await h.send('PROPPATCH', '/calendars/alice/tasks/', {
      headers: XML,
      body: `<D:propertyupdate ${NS_DECL}><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></D:propertyupdate>`,
    });
    assert.equal(change.status, 207);
    assert.match(change.text, /HTTP\/1\.1 403 Forbidden/u);
    assert.deepEqual(await comps('/calendars/alice/tasks/'), ['VTODO']);
  });

  void it('refuses a second object with the same UID with 409 no-uid-conflict naming the other href', async () => {
    await mkcalendar(h, '/calendars/alice/uids/');
    const first = event('shared-uid', ['DTSTART:20260310T090000Z']);
    assert.equal((await h.send('PUT', '/calendars/alice/uids/first.ics', { headers: TEXT_CALENDAR, body: first })).status, 201);
    const clash = await h.send('PUT', '/calendars/alice/uids/second.ics', { headers: TEXT_CALENDAR, body: event('shared-uid', ['DTSTART:20260311T090000Z']) });
    assert.equal(clash.status, 409);
    const root = parseXml(clash.text);
    assert.equal(root.name, dav('error'));
    const condition = findChild(root, caldav('no-uid-conflict'));
    assert.ok(condition, clash.text);
    assert.equal(textContent(findChild(condition, dav('href')) ?? condition), '/calendars/alice/uids/first.ics');
    assert.equal((await h.send('GET', '/calendars/alice/uids/second.ics')).status, 404);

    // Rewriting the same resource is no conflict; the same UID in another calendar is allowed.
    assert.equal((await h.send('PUT', '/calendars/alice/uids/first.ics', { headers: TEXT_CALENDAR, body: event('shared-uid', ['DTSTART:20260312T090000Z']) })).status, 204);
    assert.equal((await h.send('PUT', `${CAL}other-calendar.ics`, { headers: TEXT_CALENDAR, body: first })).status, 201);
    // Once the first is gone, the UID is free.
    assert.equal((await h.send('DELETE', '/calendars/alice/uids/first.ics')).status, 204);
    assert.equal((await h.send('PUT', '/calendars/alice/uids/second.ics', { headers: TEXT_CALENDAR, body: first })).status, 201);
  });

  void it('refuses a MOVE of an event into a tasks-only calendar with supported-calendar-component (RFC 4791 §5.3.2.1)', async () => {
    await mkcalendar(h, '/calendars/alice/todo-only/', { components: ['VTODO'] });
    assert.equal((await h.send('PUT', `${CAL}move-source.ics`, { headers: TEXT_CALENDAR, body: event('move-uid', ['DTSTART:20260310T090000Z']) })).status, 201);
    const moved = await h.send('MOVE', `${CAL}move-source.ics`, { headers: { destination: '/calendars/alice/todo-only/moved.ics' } });
    assert.equal(moved.status, 403, moved.text);
    assert.deepEqual(moved.text.startsWith('<?xml') ? errorConditions(moved.text) : [], [caldav('supported-calendar-component')]);
    assert.equal((await h.send('GET', '/calendars/alice/todo-only/moved.ics')).status, 404);
    assert.equal((await h.send('GET', `${CAL}move-source.ics`)).status, 200);
  });

  void it('refuses a COPY that would put a UID twice in one calendar with no-uid-conflict naming the href (RFC 4791 §5.3.2.1)', async () => {
    await mkcalendar(h, '/calendars/alice/copies/');
    const body = event('copied-uid', ['DTSTART:20260310T090000Z']);
    assert.equal((await h.send('PUT', `${CAL}copy-source.ics`, { headers: TEXT_CALENDAR, body })).status, 201);
    const copied = await h.send('COPY', `${CAL}copy-source.ics`, { headers: { destination: `${CAL}copy-twin.ics` } });
    assert.equal(copied.status, 409, copied.text);
    const condition = copied.text.startsWith('<?xml') ? findChild(parseXml(copied.text), caldav('no-uid-conflict')) : undefined;
    assert.ok(condition, `no CALDAV:no-uid-conflict in: ${copied.text}`);
    assert.equal(textContent(findChild(condition, dav('href')) ?? condition), `${CAL}copy-source.ics`);
    assert.equal((await h.send('GET', `${CAL}copy-twin.ics`)).status, 404);
    // Into another calendar that accepts events, the copy works and keeps the bytes.
    assert.equal((await h.send('COPY', `${CAL}copy-source.ics`, { headers: { destination: '/calendars/alice/copies/copy.ics' } })).status, 201);
    assert.equal((await h.send('GET', '/calendars/alice/copies/copy.ics')).text, body);
  });

  void it('refuses media types other than text/calendar with supported-calendar-data', async () => {
    const body = event('media', ['DTSTART:20260310T090000Z']);
    for (const type of ['text/plain', 'application/json', 'text/vcard', 'application/calendar+json']) {
      const result = await refused(h, `${CAL}media.ics`, body, { 'content-type': type });
      assert.equal(result.status, 403, `${type}: ${result.text}`);
      assert.deepEqual(result.conditions, [caldav('supported-calendar-data')], type);
    }
    for (const [n, type] of ['text/calendar', 'TEXT/Calendar; charset=UTF-8', 'text/calendar; component=vevent'].entries()) {
      assert.equal((await h.send('PUT', `${CAL}media-${n}.ics`, { headers: { 'content-type': type }, body: event(`media-${n}`, ['DTSTART:20260310T090000Z']) })).status, 201, type);
    }
  });

  void it('refuses a TZID it cannot resolve unless the object defines it; accepts Windows zone names', async () => {
    const unknown = event('tz-unknown', ['DTSTART;TZID=Mars/Olympus_Mons:20260310T090000', 'DTEND;TZID=Mars/Olympus_Mons:20260310T100000']);
    const result = await refused(h, `${CAL}tz-unknown.ics`, unknown);
    assert.equal(result.status, 403, result.text);
    assert.deepEqual(result.conditions, [caldav('valid-calendar-data')]);

    const defined = ics(
      'BEGIN:VTIMEZONE', 'TZID:Mars/Olympus_Mons', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0300', 'TZOFFSETTO:+0300', 'END:STANDARD', 'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:tz-defined', 'DTSTAMP:20260101T000000Z', 'DTSTART;TZID=Mars/Olympus_Mons:20260310T090000', 'DTEND;TZID=Mars/Olympus_Mons:20260310T100000', 'END:VEVENT',
    );
    assert.equal((await h.send('PUT', `${CAL}tz-defined.ics`, { headers: TEXT_CALENDAR, body: defined })).status, 201);

    // Outlook sends Windows names without a VTIMEZONE: W. Europe is UTC+1 in January.
    const windows = event('tz-windows', ['DTSTART;TZID=W. Europe Standard Time:20260115T090000', 'DTEND;TZID=W. Europe Standard Time:20260115T100000']);
    assert.equal((await h.send('PUT', `${CAL}tz-windows.ics`, { headers: TEXT_CALENDAR, body: windows })).status, 201);
    const at = async (start: string, end: string): Promise<string[]> =>
      (await report(h, CAL, calendarQueryBody(compFilter('VEVENT', timeRange(start, end))))).hrefs;
    assert.ok((await at('20260115T080000Z', '20260115T081500Z')).includes(`${CAL}tz-windows.ics`));
    assert.ok(!(await at('20260115T090000Z', '20260115T100000Z')).includes(`${CAL}tz-windows.ics`));
    // The object's own definition applies: 09:00 at +03:00 is 06:00Z.
    assert.ok((await at('20260310T060000Z', '20260310T061500Z')).includes(`${CAL}tz-defined.ics`));
  });

  void it('stores the body byte for byte and serves it with the strong ETag that PUT returned', async () => {
    // LF line endings, a BOM, folding, non-ASCII text, lower-case names, an X- property: all kept as sent.
    const text = '\uFEFFBEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Almanac tests//EN\nBEGIN:VEVENT\nUID:bytes\ndtstamp:20260101T000000Z\nDTSTART:20260310T090000Z\nSUMMARY:Zoë’s très long summary that goes past seventy-five octets so it is\n  folded here\nX-CUSTOM;X-PARAM="a;b":value\nEND:VEVENT\nEND:VCALENDAR\n';
    const sent = Buffer.from(text, 'utf8');
    const put = await h.send('PUT', `${CAL}bytes.ics`, { headers: TEXT_CALENDAR, body: sent });
    assert.equal(put.status, 201);
    const etag = put.headers.ETag;
    assert.match(etag ?? '', /^"[^"]+"$/u, 'a strong ETag');

    const got = await h.send('GET', `${CAL}bytes.ics`);
    assert.equal(got.status, 200);
    assert.ok(bodyBytes(got).equals(sent), 'GET returns the bytes that were PUT');
    assert.equal(got.headers.ETag, etag);
    assert.match(got.headers['Content-Type'] ?? '', /^text\/calendar/u);
    const head = await h.send('HEAD', `${CAL}bytes.ics`);
    assert.equal(head.headers.ETag, etag);
    assert.equal(head.headers['Content-Length'], String(sent.byteLength));
    const props = await propsOf(h, `${CAL}bytes.ics`, propfindBody(dav('getetag'), dav('getcontentlength')));
    assert.equal(textContent(props.get(dav('getetag'))!.element), etag);
    assert.equal(textContent(props.get(dav('getcontentlength'))!.element), String(sent.byteLength));

    // A new body gets a new ETag, again the one GET serves.
    const update = await h.send('PUT', `${CAL}bytes.ics`, { headers: TEXT_CALENDAR, body: text.replace('09', '10') });
    assert.equal(update.status, 204);
    assert.notEqual(update.headers.ETag, etag);
    assert.equal((await h.send('GET', `${CAL}bytes.ics`)).headers.ETag, update.headers.ETag);
  });

  void it('honours If-Match and If-None-Match on calendar objects', async () => {
    const path = `${CAL}conditional.ics`;
    const v1 = event('cond', ['DTSTART:20260310T090000Z']);
    const created = await h.send('PUT', path, { headers: { ...TEXT_CALENDAR, 'if-none-match': '*' }, body: v1 });
    assert.equal(created.status, 201);
    const etag1 = created.headers.ETag ?? '';

    // Create-only again: the object exists now.
    assert.equal((await h.send('PUT', path, { headers: { ...TEXT_CALENDAR, 'if-none-match': '*' }, body: v1 })).status, 412);
    // Update with a stale or invented ETag fails; the stored body stays.
    assert.equal((await h.send('PUT', path, { headers: { ...TEXT_CALENDAR, 'if-match': '"not-the-etag"' }, body: event('cond', ['DTSTART:20260311T090000Z']) })).status, 412);
    assert.equal((await h.send('GET', path)).text, v1);
    // A weak form of the right tag does not match strongly (RFC 9110 §13.1.1).
    assert.equal((await h.send('PUT', path, { headers: { ...TEXT_CALENDAR, 'if-match': `W/${etag1}` }, body: v1 })).status, 412);
    // If-Match: * needs an existing resource.
    assert.equal((await h.send('PUT', `${CAL}nothing-here.ics`, { headers: { ...TEXT_CALENDAR, 'if-match': '*' }, body: event('none', ['DTSTART:20260310T090000Z']) })).status, 412);

    const v2 = event('cond', ['DTSTART:20260312T090000Z']);
    const updated = await h.send('PUT', path, { headers: { ...TEXT_CALENDAR, 'if-match': etag1 }, body: v2 });
    assert.equal(updated.status, 204);
    const etag2 = updated.headers.ETag ?? '';
    assert.notEqual(etag2, etag1);

    assert.equal((await h.send('GET', path, { headers: { 'if-none-match': etag2 } })).status, 304);
    assert.equal((await h.send('GET', path, { headers: { 'if-none-match': etag1 } })).status, 200);
    assert.equal((await h.send('DELETE', path, { headers: { 'if-match': etag1 } })).status, 412);
    assert.equal((await h.send('GET', path)).status, 200);
    assert.equal((await h.send('DELETE', path, { headers: { 'if-match': etag2 } })).status, 204);
    assert.equal((await h.send('GET', path)).status, 404);
  });
});

void describe('CalDAV max-resource-size', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice'], { maxResourceSize: 4096 });
  });
  after(async () => h.close());

  /** An event whose body is exactly `size` bytes (padding in DESCRIPTION, folded lines). */
  function eventOfSize(uid: string, size: number): string {
    const base = event(uid, ['DTSTART:20260310T090000Z', 'DESCRIPTION:']);
    let padding = 'x'.repeat(size - Buffer.byteLength(base));
    const body = event(uid, ['DTSTART:20260310T090000Z', `DESCRIPTION:${padding}`]);
    padding = padding.slice(0, padding.length - (Buffer.byteLength(body) - size));
    const exact = event(uid, ['DTSTART:20260310T090000Z', `DESCRIPTION:${padding}`]);
    assert.equal(Buffer.byteLength(exact), size);
    return exact;
  }

  void it('advertises max-resource-size and accepts an object of exactly that size', async () => {
    const props = await propsOf(h, CAL, propfindBody(caldav('max-resource-size')));
    assert.equal(textContent(props.get(caldav('max-resource-size'))!.element), '4096');
    assert.equal((await h.send('PUT', `${CAL}fits.ics`, { headers: TEXT_CALENDAR, body: eventOfSize('fits', 4096) })).status, 201);
  });

  void it('refuses a larger object with the max-resource-size precondition', async () => {
    const result = await refused(h, `${CAL}too-big.ics`, eventOfSize('too-big', 4097));
    // 403 like every other precondition (413 would do too), but the client must be told which one failed.
    assert.ok(result.status === 403 || result.status === 413, `${result.status}`);
    assert.deepEqual(result.conditions, [caldav('max-resource-size')], `${result.status} ${result.text}`);
  });
});

void describe('MKCALENDAR failures', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  void it('answers 405 on an existing calendar or collection', async () => {
    assert.equal((await mkcalendar(h, CAL)).status, 405);
    assert.equal((await mkcalendar(h, '/calendars/alice/')).status, 405);
  });

  void it('refuses locations outside the calendar home with 403 calendar-collection-location-ok', async () => {
    for (const path of ['/calendars/alice/default/inner/', '/files/alice/cal/', '/addressbooks/alice/cal/']) {
      const response = await mkcalendar(h, path);
      assert.equal(response.status, 403, `${path}: ${response.text}`);
      assert.deepEqual(errorConditions(response.text), [caldav('calendar-collection-location-ok')], path);
      assert.equal((await h.send('PROPFIND', path, { headers: { depth: '0' } })).status, 404, path);
    }
  });

  void it('refuses the whole request when one property is invalid: 403 mkcalendar-response, 424 for the rest, nothing created', async () => {
    const path = '/calendars/alice/broken/';
    const response = await mkcalendar(h, path, {
      props: '<D:displayname>Broken</D:displayname><C:calendar-description>Never created</C:calendar-description><C:calendar-timezone-id>Mars/Olympus_Mons</C:calendar-timezone-id>',
    });
    assert.equal(response.status, 403, response.text);
    const propstats = creationPropstats(response.text, caldav('mkcalendar-response'));
    const byProp = new Map(propstats.flatMap((p) => p.props.map((name) => [name, p] as const)));
    assert.equal(byProp.get(caldav('calendar-timezone-id'))?.status, 'HTTP/1.1 403 Forbidden');
    assert.deepEqual(byProp.get(caldav('calendar-timezone-id'))?.errors, [caldav('valid-timezone')]);
    assert.equal(byProp.get(dav('displayname'))?.status, 'HTTP/1.1 424 Failed Dependency');
    assert.equal(byProp.get(caldav('calendar-description'))?.status, 'HTTP/1.1 424 Failed Dependency');
    assert.equal(byProp.size, 3);
    assert.equal((await h.send('PROPFIND', path, { headers: { depth: '0' } })).status, 404);
    // A protected property fails the same way.
    const protectedProp = await mkcalendar(h, path, { props: '<D:displayname>Broken</D:displayname><D:getetag>"x"</D:getetag>' });
    assert.equal(protectedProp.status, 403);
    const statuses = creationPropstats(protectedProp.text, caldav('mkcalendar-response')).map((p) => [p.props, p.status]);
    assert.deepEqual(statuses, [[[dav('getetag')], 'HTTP/1.1 403 Forbidden'], [[dav('displayname')], 'HTTP/1.1 424 Failed Dependency']]);
    assert.equal((await h.send('PROPFIND', path, { headers: { depth: '0' } })).status, 404);
  });

  void it('creates a calendar whose properties come from the body, once they are all valid', async () => {
    const response = await mkcalendar(h, '/calendars/alice/ok/', {
      components: ['VTODO'],
      props: '<D:displayname>Tasks</D:displayname><C:calendar-timezone-id>Europe/Berlin</C:calendar-timezone-id>',
    });
    assert.equal(response.status, 201);
    const props = await propsOf(h, '/calendars/alice/ok/', propfindBody(dav('displayname'), caldav('calendar-timezone-id'), dav('resourcetype')));
    assert.equal(textContent(props.get(dav('displayname'))!.element), 'Tasks');
    assert.equal(textContent(props.get(caldav('calendar-timezone-id'))!.element), 'Europe/Berlin');
    assert.deepEqual(childElements(props.get(dav('resourcetype'))!.element).map((e) => e.name), [dav('collection'), caldav('calendar')]);
  });
});
