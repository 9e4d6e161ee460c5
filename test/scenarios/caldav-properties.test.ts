// Calendar and calendar home properties as clients read and write them: calendar-timezone and
// calendar-timezone-id kept in step (RFC 7809 §5), Apple colour/order round trips, description,
// schedule-calendar-transp, the advertised capabilities, the iOS home PROPFIND, and change markers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ICAL from 'ical.js';
import { caldav, cs, dav, ical, type ClarkName } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { childElements, findChild, findChildren, textContent } from '../../src/dav/xml/tree.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import { errorConditions, Harness, parseMultistatus, propfindBody } from '../support/harness.ts';
import {
  clientTrace, event, mkcalendar, NS_DECL, proppatch, propsOf, rawResponses, TEXT_CALENDAR, XML,
} from '../support/dav-fixtures.ts';

const HOME = '/calendars/alice/';
const CAL = '/calendars/alice/props/';

/** The status line each property got in a PROPPATCH answer. */
function patchStatuses(text: string): Map<ClarkName, { status: string; errors: ClarkName[] }> {
  const out = new Map<ClarkName, { status: string; errors: ClarkName[] }>();
  for (const response of findChildren(parseXml(text), dav('response'))) {
    for (const propstat of findChildren(response, dav('propstat'))) {
      const status = textContent(findChild(propstat, dav('status')) ?? propstat);
      const error = findChild(propstat, dav('error'));
      for (const prop of childElements(findChild(propstat, dav('prop')) ?? propstat)) {
        out.set(prop.name, { status, errors: error === undefined ? [] : childElements(error).map((e) => e.name) });
      }
    }
  }
  return out;
}

/** The TZIDs of the VTIMEZONEs in a calendar-timezone value (which must be one VCALENDAR). */
function vtimezoneIds(value: string): string[] {
  const root = new ICAL.Component(ICAL.parse(value) as unknown[]);
  assert.equal(root.name, 'vcalendar');
  return root.getAllSubcomponents('vtimezone').map((z) => String(z.getFirstPropertyValue('tzid')));
}

const ZONE_PROPS = propfindBody(caldav('calendar-timezone'), caldav('calendar-timezone-id'));

void describe('calendar properties', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkcalendar(h, CAL)).status, 201);
  });
  after(async () => h.close());

  void it('setting calendar-timezone-id sets calendar-timezone to that zone, and the other way round', async () => {
    const byId = await proppatch(h, CAL, '<C:calendar-timezone-id>America/New_York</C:calendar-timezone-id>');
    assert.equal(patchStatuses(byId.text).get(caldav('calendar-timezone-id'))?.status, 'HTTP/1.1 200 OK');
    let props = await propsOf(h, CAL, ZONE_PROPS);
    assert.equal(textContent(props.get(caldav('calendar-timezone-id'))!.element), 'America/New_York');
    assert.deepEqual(vtimezoneIds(textContent(props.get(caldav('calendar-timezone'))!.element)), ['America/New_York']);

    // A client that only knows RFC 4791 sends the VTIMEZONE (here the IANA definition of Berlin).
    const berlin = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Example Corp.//CalDAV Client//EN', 'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin',
      'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
      'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
      'END:VTIMEZONE', 'END:VCALENDAR', ''].join('\r\n');
    const byValue = await proppatch(h, CAL, `<C:calendar-timezone><![CDATA[${berlin}]]></C:calendar-timezone>`);
    assert.equal(patchStatuses(byValue.text).get(caldav('calendar-timezone'))?.status, 'HTTP/1.1 200 OK');
    props = await propsOf(h, CAL, ZONE_PROPS);
    assert.equal(textContent(props.get(caldav('calendar-timezone-id'))!.element), 'Europe/Berlin');
    assert.deepEqual(vtimezoneIds(textContent(props.get(caldav('calendar-timezone'))!.element)), ['Europe/Berlin']);

    // Removing one removes both: they describe the same thing.
    const removed = await h.send('PROPPATCH', CAL, {
      headers: XML,
      body: `<D:propertyupdate ${NS_DECL}><D:remove><D:prop><C:calendar-timezone-id/></D:prop></D:remove></D:propertyupdate>`,
    });
    assert.equal(removed.status, 207);
    props = await propsOf(h, CAL, ZONE_PROPS);
    assert.equal(props.get(caldav('calendar-timezone-id'))?.status, 'HTTP/1.1 404 Not Found');
    assert.equal(props.get(caldav('calendar-timezone'))?.status, 'HTTP/1.1 404 Not Found');
  });

  void it('refuses an unknown id with valid-timezone and a broken VTIMEZONE with valid-calendar-data; the batch fails as a whole', async () => {
    await proppatch(h, CAL, '<C:calendar-timezone-id>Asia/Tokyo</C:calendar-timezone-id><D:displayname>Before</D:displayname>');
    const unknown = await proppatch(h, CAL, '<D:displayname>After</D:displayname><C:calendar-timezone-id>Mars/Olympus_Mons</C:calendar-timezone-id>');
    assert.equal(unknown.status, 207);
    const statuses = patchStatuses(unknown.text);
    assert.deepEqual(statuses.get(caldav('calendar-timezone-id')), { status: 'HTTP/1.1 403 Forbidden', errors: [caldav('valid-timezone')] });
    assert.deepEqual(statuses.get(dav('displayname')), { status: 'HTTP/1.1 424 Failed Dependency', errors: [] });

    const broken = await proppatch(h, CAL, '<C:calendar-timezone>BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n</C:calendar-timezone>');
    assert.deepEqual(patchStatuses(broken.text).get(caldav('calendar-timezone')), { status: 'HTTP/1.1 403 Forbidden', errors: [caldav('valid-calendar-data')] });

    const props = await propsOf(h, CAL, propfindBody(caldav('calendar-timezone-id'), caldav('calendar-timezone'), dav('displayname')));
    assert.equal(textContent(props.get(caldav('calendar-timezone-id'))!.element), 'Asia/Tokyo');
    assert.deepEqual(vtimezoneIds(textContent(props.get(caldav('calendar-timezone'))!.element)), ['Asia/Tokyo']);
    assert.equal(textContent(props.get(dav('displayname'))!.element), 'Before');
  });

  void it('round-trips Apple calendar-color and calendar-order exactly, attributes included', async () => {
    const patched = await proppatch(h, CAL,
      '<I:calendar-color symbolic-color="purple" xmlns:X="urn:x" X:extra="kept">#CC73E1FF</I:calendar-color><I:calendar-order>7</I:calendar-order>');
    assert.equal(patched.status, 207);
    const body = propfindBody(ical('calendar-color'), ical('calendar-order'));
    const props = await propsOf(h, CAL, body);
    const color = props.get(ical('calendar-color'))!.element;
    assert.equal(textContent(color), '#CC73E1FF');
    assert.deepEqual([...color.attributes.entries()].sort(), [['{urn:x}extra', 'kept'], ['{}symbolic-color', 'purple']]);
    assert.equal(textContent(props.get(ical('calendar-order'))!.element), '7');
    // Thunderbird and DAVx5 write #RRGGBB; it comes back as written.
    await proppatch(h, CAL, '<I:calendar-color>#3a5fcd</I:calendar-color>');
    const again = await propsOf(h, CAL, body);
    assert.equal(textContent(again.get(ical('calendar-color'))!.element), '#3a5fcd');
    assert.equal(again.get(ical('calendar-color'))!.element.attributes.size, 0);
    // And the listing of the home shows the same values.
    const listing = parseMultistatus((await h.send('PROPFIND', HOME, { headers: { depth: '1' }, body })).text).find((r) => r.href === CAL);
    assert.equal(textContent(listing!.props.get(ical('calendar-color'))!.element), '#3a5fcd');
  });

  void it('keeps calendar-description and displayname as written, markup characters and non-ASCII included', async () => {
    const text = 'Zoë & Łukasz <team> "planning" 山田';
    const escaped = text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');
    await proppatch(h, CAL, `<C:calendar-description xml:lang="pl">${escaped}</C:calendar-description><D:displayname>${escaped}</D:displayname>`);
    const props = await propsOf(h, CAL, propfindBody(caldav('calendar-description'), dav('displayname')));
    assert.equal(textContent(props.get(caldav('calendar-description'))!.element), text);
    assert.equal(textContent(props.get(dav('displayname'))!.element), text);
  });

  void it('accepts opaque and transparent for schedule-calendar-transp and refuses anything else', async () => {
    const read = async (): Promise<ClarkName[]> => {
      const props = await propsOf(h, CAL, propfindBody(caldav('schedule-calendar-transp')));
      return childElements(props.get(caldav('schedule-calendar-transp'))!.element).map((e) => e.name);
    };
    assert.equal(patchStatuses((await proppatch(h, CAL, '<C:schedule-calendar-transp><C:transparent/></C:schedule-calendar-transp>')).text).get(caldav('schedule-calendar-transp'))?.status, 'HTTP/1.1 200 OK');
    assert.deepEqual(await read(), [caldav('transparent')]);
    await proppatch(h, CAL, '<C:schedule-calendar-transp><C:opaque/></C:schedule-calendar-transp>');
    assert.deepEqual(await read(), [caldav('opaque')]);
    for (const bad of ['<C:schedule-calendar-transp>transparent</C:schedule-calendar-transp>', '<C:schedule-calendar-transp><C:busy/></C:schedule-calendar-transp>', '<C:schedule-calendar-transp><C:opaque/><C:transparent/></C:schedule-calendar-transp>']) {
      const status = patchStatuses((await proppatch(h, CAL, bad)).text).get(caldav('schedule-calendar-transp'))?.status ?? '';
      assert.match(status, /^HTTP\/1\.1 (403|409) /u, bad);
      assert.deepEqual(await read(), [caldav('opaque')], bad);
    }
  });

  void it('advertises supported-calendar-data, max-resource-size and the component set; refuses to change them', async () => {
    const props = await propsOf(h, CAL, propfindBody(caldav('supported-calendar-data'), caldav('max-resource-size'), caldav('supported-calendar-component-set'), dav('resourcetype')));
    const data = childElements(props.get(caldav('supported-calendar-data'))!.element);
    assert.deepEqual(data.map((e) => [e.name, [...e.attributes.entries()].sort()]), [[caldav('calendar-data'), [['{}content-type', 'text/calendar'], ['{}version', '2.0']]]]);
    assert.equal(textContent(props.get(caldav('max-resource-size'))!.element), String(DEFAULTS.maxResourceSize));
    // MKCALENDAR without a component set: every type this server stores (RFC 4791 §5.2.3).
    assert.deepEqual(childElements(props.get(caldav('supported-calendar-component-set'))!.element).map((c) => c.attributes.get('{}name' as ClarkName)), ['VEVENT', 'VTODO', 'VJOURNAL']);
    assert.deepEqual(childElements(props.get(dav('resourcetype'))!.element).map((e) => e.name), [dav('collection'), caldav('calendar')]);
    const patch = await proppatch(h, CAL, '<C:max-resource-size>1</C:max-resource-size><C:supported-calendar-data/>');
    const statuses = patchStatuses(patch.text);
    assert.deepEqual(statuses.get(caldav('max-resource-size')), { status: 'HTTP/1.1 403 Forbidden', errors: [dav('cannot-modify-protected-property')] });
    assert.deepEqual(statuses.get(caldav('supported-calendar-data')), { status: 'HTTP/1.1 403 Forbidden', errors: [dav('cannot-modify-protected-property')] });
  });

  void it('creates calendars with extended MKCOL (RFC 5689) too', async () => {
    const response = await h.send('MKCOL', '/calendars/alice/by-mkcol/', {
      headers: XML,
      body: `<D:mkcol ${NS_DECL}><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Chores</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></D:mkcol>`,
    });
    assert.equal(response.status, 201, response.text);
    const props = await propsOf(h, '/calendars/alice/by-mkcol/', propfindBody(dav('resourcetype'), dav('displayname'), caldav('supported-calendar-component-set')));
    assert.deepEqual(childElements(props.get(dav('resourcetype'))!.element).map((e) => e.name), [dav('collection'), caldav('calendar')]);
    assert.equal(textContent(props.get(dav('displayname'))!.element), 'Chores');
    assert.equal((await h.send('PUT', '/calendars/alice/by-mkcol/e.ics', { headers: TEXT_CALENDAR, body: event('e', ['DTSTART:20260310T090000Z']) })).status, 403);
  });
});

/** A minimal body for each report this test knows, to probe where it is accepted. */
const REPORT_BODIES: Readonly<Record<string, string>> = {
  [caldav('calendar-query')]: `<C:calendar-query ${NS_DECL}><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`,
  [caldav('calendar-multiget')]: `<C:calendar-multiget ${NS_DECL}><D:prop><D:getetag/></D:prop><D:href>/calendars/alice/default/x.ics</D:href></C:calendar-multiget>`,
  [caldav('free-busy-query')]: `<C:free-busy-query ${NS_DECL}><C:time-range start="20260101T000000Z" end="20260102T000000Z"/></C:free-busy-query>`,
  [dav('sync-collection')]: '<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>',
  '{urn:ietf:params:xml:ns:carddav}addressbook-query': '<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter/></C:addressbook-query>',
  '{urn:ietf:params:xml:ns:carddav}addressbook-multiget': '<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><D:href>/addressbooks/alice/default/x.vcf</D:href></C:addressbook-multiget>',
  [dav('expand-property')]: '<D:expand-property xmlns:D="DAV:"><D:property name="owner"/></D:expand-property>',
  [dav('principal-property-search')]: '<D:principal-property-search xmlns:D="DAV:"><D:property-search><D:prop><D:displayname/></D:prop><D:match>a</D:match></D:property-search></D:principal-property-search>',
};

void describe('supported-report-set', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  const listed = async (path: string): Promise<string[]> => {
    const props = await propsOf(h, path, propfindBody(dav('supported-report-set')));
    return childElements(props.get(dav('supported-report-set'))!.element)
      .map((supported) => childElements(findChild(supported, dav('report')) ?? supported)[0]?.name ?? '')
      .sort();
  };

  void it('lists exactly the calendar reports on a calendar (and expand-property, which applies to any resource)', async () => {
    assert.deepEqual(await listed('/calendars/alice/default/'), [dav('expand-property'), dav('sync-collection'), caldav('calendar-multiget'), caldav('calendar-query'), caldav('free-busy-query')].sort());
  });

  void it('lists a report exactly where REPORT accepts it', async () => {
    for (const path of ['/calendars/alice/default/', HOME, '/principals/alice/']) {
      const reports = await listed(path);
      for (const [name, body] of Object.entries(REPORT_BODIES)) {
        const response = await h.send('REPORT', path, { headers: { depth: name === dav('sync-collection') ? '0' : '1', ...XML }, body });
        const refused = response.status === 403 && errorConditions(response.text).includes(dav('supported-report'));
        assert.equal(reports.includes(name), !refused, `${name} on ${path}: listed ${reports.includes(name)}, REPORT answered ${response.status} ${response.text.slice(0, 200)}`);
      }
    }
  });
});

void describe('the calendar home as iOS reads it', () => {
  let h: Harness;
  const trace = clientTrace('ios-macos/05-propfind-calendar-home-depth1.http');
  const asked = childElements(findChild(parseXml(trace.body), dav('prop'))!).map((e) => e.name);
  before(async () => {
    h = await Harness.start(['alice']);
    await mkcalendar(h, '/calendars/alice/tasks/', { components: ['VTODO'] });
  });
  after(async () => h.close());

  void it('answers every one of the properties with a value or 404, never an error', async () => {
    assert.equal(asked.length, 39);
    const headers = { ...trace.headers };
    delete headers.prefer;
    delete headers.brief;
    const response = await h.send('PROPFIND', HOME, { headers, body: trace.body });
    assert.equal(response.status, 207);
    const responses = parseMultistatus(response.text);
    assert.deepEqual(responses.map((r) => r.href).sort(), [HOME, '/calendars/alice/default/', '/calendars/alice/tasks/']);
    for (const r of responses) {
      assert.equal(r.status, undefined);
      assert.deepEqual([...r.props.keys()].sort(), [...asked].sort(), r.href);
      for (const [name, { status }] of r.props) assert.match(status, /^HTTP\/1\.1 (200 OK|404 Not Found)$/u, `${r.href} ${name}`);
    }
    const byHref = new Map(responses.map((r) => [r.href, r.props]));
    for (const calendar of ['/calendars/alice/default/', '/calendars/alice/tasks/']) {
      const props = byHref.get(calendar)!;
      for (const name of [dav('resourcetype'), cs('getctag'), dav('sync-token'), caldav('supported-calendar-component-set'), dav('supported-report-set'), dav('current-user-privilege-set'), dav('owner')]) {
        assert.equal(props.get(name)?.status, 'HTTP/1.1 200 OK', `${calendar} ${name}`);
      }
      assert.ok(childElements(props.get(dav('resourcetype'))!.element).some((e) => e.name === caldav('calendar')));
    }
    assert.equal(textContent(byHref.get('/calendars/alice/default/')!.get(dav('displayname'))!.element), 'Calendar');
    assert.equal(byHref.get(HOME)!.get(dav('sync-token'))?.status, 'HTTP/1.1 200 OK');
  });

  void it('with the trace headers (Prefer: return=minimal, Brief: t) leaves the 404s out', async () => {
    const response = await h.send('PROPFIND', HOME, { headers: trace.headers, body: trace.body });
    assert.equal(response.status, 207);
    for (const r of rawResponses(response.text)) assert.equal(r.propstats, 1, r.href);
    for (const r of parseMultistatus(response.text)) {
      for (const [name, { status }] of r.props) assert.equal(status, 'HTTP/1.1 200 OK', `${r.href} ${name}`);
    }
  });
});

void describe('change markers of the calendar home', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  const markers = async (path: string): Promise<[string, string]> => {
    const props = await propsOf(h, path, propfindBody(cs('getctag'), dav('sync-token')));
    return [textContent(props.get(cs('getctag'))!.element), textContent(props.get(dav('sync-token'))!.element)];
  };

  void it('moves the home getctag and sync-token whenever a calendar inside changes', async () => {
    const steps: [string, () => Promise<number>][] = [
      ['create a calendar', async () => (await mkcalendar(h, '/calendars/alice/work/')).status],
      ['add an event', async () => (await h.send('PUT', '/calendars/alice/work/a.ics', { headers: TEXT_CALENDAR, body: event('a', ['DTSTART:20260310T090000Z']) })).status],
      ['change the event', async () => (await h.send('PUT', '/calendars/alice/work/a.ics', { headers: TEXT_CALENDAR, body: event('a', ['DTSTART:20260311T090000Z']) })).status],
      ['rename the calendar', async () => (await proppatch(h, '/calendars/alice/work/', '<D:displayname>Job</D:displayname>')).status],
      ['recolour the default calendar', async () => (await proppatch(h, '/calendars/alice/default/', '<I:calendar-color>#FF0000</I:calendar-color>')).status],
      ['delete the event', async () => (await h.send('DELETE', '/calendars/alice/work/a.ics')).status],
      ['delete the calendar', async () => (await h.send('DELETE', '/calendars/alice/work/')).status],
    ];
    let before = await markers(HOME);
    for (const [what, step] of steps) {
      assert.ok([201, 204, 207].includes(await step()), what);
      const now = await markers(HOME);
      assert.notEqual(now[0], before[0], `getctag after: ${what}`);
      assert.notEqual(now[1], before[1], `sync-token after: ${what}`);
      before = now;
    }
    assert.deepEqual(await markers(HOME), before, 'nothing changed, nothing moves');
  });

  void it('moves a calendar getctag on its own changes only', async () => {
    await mkcalendar(h, '/calendars/alice/one/');
    await mkcalendar(h, '/calendars/alice/two/');
    const one = await markers('/calendars/alice/one/');
    const two = await markers('/calendars/alice/two/');
    await h.send('PUT', '/calendars/alice/one/x.ics', { headers: TEXT_CALENDAR, body: event('x', ['DTSTART:20260310T090000Z']) });
    assert.notDeepEqual(await markers('/calendars/alice/one/'), one);
    assert.deepEqual(await markers('/calendars/alice/two/'), two);
  });
});
