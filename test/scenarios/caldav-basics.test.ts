// CalDAV end to end in-process: MKCALENDAR as iOS and DAVx5 send it, PUT validation with each
// precondition, calendar properties, and the three reports on a small calendar.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caldav, cs, dav } from '../../src/dav/xml/names.ts';
import { textContent } from '../../src/dav/xml/tree.ts';
import { errorConditions, Harness, parseMultistatus, propfindBody } from '../support/harness.ts';

const CRLF = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;
const event = (uid: string, start: string, end: string, extra: string[] = []): string =>
  CRLF(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${start}`, `DTEND:${end}`, ...extra, 'SUMMARY:Meeting', 'END:VEVENT', 'END:VCALENDAR']);
const TEXT_CALENDAR = { 'content-type': 'text/calendar; charset=utf-8' };

const MKCALENDAR_DAVX5 = `<?xml version='1.0' encoding='UTF-8' ?><CAL:mkcalendar xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><set><prop><resourcetype><collection /><CAL:calendar /></resourcetype><displayname>Work</displayname><CAL:calendar-description>Work calendar</CAL:calendar-description><n0:calendar-color xmlns:n0="http://apple.com/ns/ical/" symbolic-color="custom">#FF8800</n0:calendar-color><CAL:calendar-timezone-id>Europe/Vienna</CAL:calendar-timezone-id><CAL:supported-calendar-component-set><CAL:comp name="VEVENT" /></CAL:supported-calendar-component-set></prop></set></CAL:mkcalendar>`;

void describe('CalDAV basics', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  void it('MKCALENDAR creates a calendar with its properties; the colour round-trips with its attribute', async () => {
    const created = await h.send('MKCALENDAR', '/calendars/alice/work/', { headers: { 'content-type': 'application/xml' }, body: MKCALENDAR_DAVX5 });
    assert.equal(created.status, 201);
    const props = parseMultistatus(
      (await h.send('PROPFIND', '/calendars/alice/work/', {
        headers: { depth: '0' },
        body: propfindBody(dav('displayname'), caldav('calendar-description'), '{http://apple.com/ns/ical/}calendar-color' as never, caldav('calendar-timezone-id'), caldav('calendar-timezone'), cs('getctag'), dav('sync-token'), dav('supported-report-set')),
      })).text,
    )[0]!.props;
    assert.equal(textContent(props.get(dav('displayname'))!.element), 'Work');
    const color = props.get('{http://apple.com/ns/ical/}calendar-color' as never)!.element;
    assert.equal(textContent(color), '#FF8800');
    assert.equal(color.attributes.get('{}symbolic-color' as never), 'custom');
    assert.equal(textContent(props.get(caldav('calendar-timezone-id'))!.element), 'Europe/Vienna');
    assert.match(textContent(props.get(caldav('calendar-timezone'))!.element), /TZID:Europe\/Vienna/u);
    assert.match(textContent(props.get(cs('getctag'))!.element), /^http:\/\/almanac\.invalid\/sync\//u);
    const reports = JSON.stringify(props.get(dav('supported-report-set'))!.element);
    for (const report of ['calendar-query', 'calendar-multiget', 'free-busy-query']) assert.match(reports, new RegExp(report, 'u'));
    assert.equal((await h.send('MKCALENDAR', '/calendars/alice/work/')).status, 405);
    assert.equal((await h.send('MKCALENDAR', '/files/alice/cal/')).status, 403);
  });

  void it('refuses an unknown time zone id with valid-timezone and keeps the old one', async () => {
    const response = await h.send('PROPPATCH', '/calendars/alice/work/', {
      body: '<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:calendar-timezone-id>Mars/Olympus</C:calendar-timezone-id></D:prop></D:set></D:propertyupdate>',
    });
    assert.equal(response.status, 207);
    assert.match(response.text, /valid-timezone/u);
    const id = parseMultistatus((await h.send('PROPFIND', '/calendars/alice/work/', { headers: { depth: '0' }, body: propfindBody(caldav('calendar-timezone-id')) })).text)[0]!;
    assert.equal(textContent(id.props.get(caldav('calendar-timezone-id'))!.element), 'Europe/Vienna');
  });

  void it('validates PUT: bad data, METHOD, component not supported, wrong media type, UID conflict', async () => {
    const ok = await h.send('PUT', '/calendars/alice/work/a.ics', { headers: TEXT_CALENDAR, body: event('uid-a', '20260310T090000Z', '20260310T100000Z') });
    assert.equal(ok.status, 201);
    assert.ok(ok.headers.ETag);
    const cases: [string, Record<string, string>, string, string][] = [
      ['garbage', TEXT_CALENDAR, 'this is not a calendar', caldav('valid-calendar-data')],
      ['method', TEXT_CALENDAR, event('uid-m', '20260310T090000Z', '20260310T100000Z').replace('VERSION:2.0', 'VERSION:2.0\r\nMETHOD:REQUEST'), caldav('valid-calendar-object-resource')],
      ['todo', TEXT_CALENDAR, CRLF(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VTODO', 'UID:t1', 'DTSTAMP:20260101T000000Z', 'SUMMARY:x', 'END:VTODO', 'END:VCALENDAR']), caldav('supported-calendar-component')],
      ['media', { 'content-type': 'text/plain' }, event('uid-p', '20260310T090000Z', '20260310T100000Z'), caldav('supported-calendar-data')],
    ];
    for (const [name, headers, body, condition] of cases) {
      const response = await h.send('PUT', `/calendars/alice/work/${name}.ics`, { headers, body });
      assert.equal(response.status, 403, `${name}: ${response.text}`);
      assert.deepEqual(errorConditions(response.text), [condition], name);
    }
    const clash = await h.send('PUT', '/calendars/alice/work/b.ics', { headers: TEXT_CALENDAR, body: event('uid-a', '20260311T090000Z', '20260311T100000Z') });
    assert.equal(clash.status, 409);
    assert.match(clash.text, /no-uid-conflict/u);
    assert.match(clash.text, /\/calendars\/alice\/work\/a\.ics/u);
  });

  void it('calendar-query finds events by time range and returns calendar-data byte for byte', async () => {
    const body = event('uid-q', '20260401T090000Z', '20260401T100000Z');
    assert.equal((await h.send('PUT', '/calendars/alice/work/q.ics', { headers: TEXT_CALENDAR, body })).status, 201);
    const query = `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260401T000000Z" end="20260402T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`;
    const response = await h.send('REPORT', '/calendars/alice/work/', { headers: { depth: '1' }, body: query });
    assert.equal(response.status, 207);
    const results = parseMultistatus(response.text);
    assert.deepEqual(results.map((r) => r.href), ['/calendars/alice/work/q.ics']);
    assert.equal(textContent(results[0]!.props.get(caldav('calendar-data'))!.element), body);
  });

  void it('calendar-multiget answers every href, missing ones with 404', async () => {
    const multiget = `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>/calendars/alice/work/a.ics</D:href><D:href>/calendars/alice/work/nope.ics</D:href><D:href>/calendars/bob/work/a.ics</D:href></C:calendar-multiget>`;
    const results = parseMultistatus((await h.send('REPORT', '/calendars/alice/work/', { body: multiget })).text);
    assert.deepEqual(results.map((r) => [r.href, r.status ?? '']), [
      ['/calendars/alice/work/a.ics', ''],
      ['/calendars/alice/work/nope.ics', 'HTTP/1.1 404 Not Found'],
      ['/calendars/bob/work/a.ics', 'HTTP/1.1 404 Not Found'],
    ]);
    assert.match(textContent(results[0]!.props.get(caldav('calendar-data'))!.element), /UID:uid-a/u);
  });

  void it('free-busy-query returns a VFREEBUSY with the busy periods', async () => {
    const response = await h.send('REPORT', '/calendars/alice/work/', {
      headers: { depth: '1' },
      body: '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260310T000000Z" end="20260311T000000Z"/></C:free-busy-query>',
    });
    assert.equal(response.status, 200);
    assert.match(response.headers['Content-Type'] ?? '', /text\/calendar/u);
    assert.match(response.text, /BEGIN:VFREEBUSY/u);
    assert.match(response.text, /20260310T090000Z\/20260310T100000Z/u);
  });

  void it('advertises calendar-access in the DAV header', async () => {
    assert.match((await h.send('OPTIONS', '/calendars/alice/')).headers.DAV ?? '', /calendar-access/u);
  });
});
