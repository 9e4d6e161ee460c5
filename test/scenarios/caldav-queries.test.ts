// CalDAV reports as clients use them (RFC 4791 §7.8-7.10, §9): every calendar-query filter element,
// each §9.9 time-range row at its boundaries, recurrence and time zone edge cases, partial
// calendar-data (comp/prop, expand, limit-recurrence-set), multiget and free-busy-query.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caldav, dav } from '../../src/dav/xml/names.ts';
import { errorConditions, Harness } from '../support/harness.ts';
import {
  calendarQueryBody, compFilter, contentLines, event, ics, mkcalendar, NS_DECL, proppatch, rawResponses, report, TEXT_CALENDAR, timeRange, todo,
} from '../support/dav-fixtures.ts';

const ALL_COMPONENTS = ['VEVENT', 'VTODO', 'VJOURNAL', 'VFREEBUSY'];

async function put(h: Harness, path: string, body: string): Promise<void> {
  const response = await h.send('PUT', path, { headers: TEXT_CALENDAR, body });
  assert.equal(response.status, 201, `PUT ${path}: ${response.text}`);
}

/** The hrefs a calendar-query with this filter answers, sorted (throws on a non-207). */
async function query(h: Harness, calendar: string, filter: string, extra = ''): Promise<string[]> {
  const result = await report(h, calendar, calendarQueryBody(filter, { extra }));
  assert.equal(result.status, 207, result.text);
  return result.hrefs;
}

const names = (calendar: string, hrefs: readonly string[]): string[] => hrefs.map((href) => href.slice(calendar.length)).sort();

void describe('calendar-query filter elements', () => {
  const CAL = '/calendars/alice/filters/';
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkcalendar(h, CAL)).status, 201);
    await put(h, `${CAL}e1.ics`, event('e1', [
      'DTSTART:20260310T090000Z', 'DTEND:20260310T100000Z', 'SUMMARY:Team Meeting', 'LOCATION:Room 1', 'CATEGORIES:WORK,PLANNING',
      'ATTENDEE;PARTSTAT=ACCEPTED;CN=Zoë Ångström:mailto:zoe@example.com',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Soon', 'TRIGGER:-PT15M', 'END:VALARM',
    ]));
    await put(h, `${CAL}e2.ics`, event('e2', [
      'DTSTART:20260311T120000Z', 'DTEND:20260311T130000Z', 'SUMMARY:Lunch with Łukasz', 'STATUS:TENTATIVE',
      'ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:lukasz@example.com',
    ]));
    await put(h, `${CAL}t1.ics`, todo('t1', ['DUE:20260312T170000Z', 'SUMMARY:Buy milk', 'STATUS:NEEDS-ACTION', 'PRIORITY:1']));
    await put(h, `${CAL}t2.ics`, todo('t2', ['DUE:20260301T170000Z', 'SUMMARY:File taxes', 'STATUS:COMPLETED', 'COMPLETED:20260228T100000Z', 'PERCENT-COMPLETE:100']));
    await put(h, `${CAL}j1.ics`, ics('BEGIN:VJOURNAL', 'UID:j1', 'DTSTAMP:20260101T000000Z', 'DTSTART;VALUE=DATE:20260310', 'SUMMARY:Diary', 'END:VJOURNAL'));
  });
  after(async () => h.close());

  const q = async (filter: string): Promise<string[]> => names(CAL, await query(h, CAL, filter));

  void it('comp-filter selects by component, nested down to VALARM', async () => {
    assert.deepEqual(await q('<C:comp-filter name="VCALENDAR"/>'), ['e1.ics', 'e2.ics', 'j1.ics', 't1.ics', 't2.ics']);
    assert.deepEqual(await q(compFilter('VEVENT')), ['e1.ics', 'e2.ics']);
    assert.deepEqual(await q(compFilter('VTODO')), ['t1.ics', 't2.ics']);
    assert.deepEqual(await q(compFilter('VJOURNAL')), ['j1.ics']);
    assert.deepEqual(await q(compFilter('VFREEBUSY')), []);
    assert.deepEqual(await q(compFilter('VEVENT', '<C:comp-filter name="VALARM"/>')), ['e1.ics']);
    // Component names are case-insensitive in iCalendar; clients send them upper case, some not.
    assert.deepEqual(await q('<C:comp-filter name="vcalendar"><C:comp-filter name="vtodo"/></C:comp-filter>'), ['t1.ics', 't2.ics']);
  });

  void it('is-not-defined on components and properties', async () => {
    assert.deepEqual(await q(compFilter('VEVENT', '<C:comp-filter name="VALARM"><C:is-not-defined/></C:comp-filter>')), ['e2.ics']);
    assert.deepEqual(await q(compFilter('VTODO', '<C:is-not-defined/>')), ['e1.ics', 'e2.ics', 'j1.ics']);
    assert.deepEqual(await q(compFilter('VEVENT', '<C:prop-filter name="LOCATION"><C:is-not-defined/></C:prop-filter>')), ['e2.ics']);
    // RFC 4791 §7.8.9: the pending tasks, i.e. without COMPLETED and not cancelled.
    assert.deepEqual(await q(compFilter('VTODO', '<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter><C:prop-filter name="STATUS"><C:text-match negate-condition="yes">CANCELLED</C:text-match></C:prop-filter>')), ['t1.ics']);
  });

  void it('prop-filter alone tests that the property exists; several prop-filters must all match', async () => {
    assert.deepEqual(await q(compFilter('VEVENT', '<C:prop-filter name="LOCATION"/>')), ['e1.ics']);
    assert.deepEqual(await q(compFilter('VTODO', '<C:prop-filter name="PERCENT-COMPLETE"/>')), ['t2.ics']);
    assert.deepEqual(await q(compFilter('VEVENT', '<C:prop-filter name="ATTENDEE"/><C:prop-filter name="STATUS"/>')), ['e2.ics']);
  });

  void it('text-match with each collation, on text, multi-valued and parameter values, and negated', async () => {
    const summary = (match: string): string => compFilter('VEVENT', `<C:prop-filter name="SUMMARY">${match}</C:prop-filter>`);
    // Default collation i;ascii-casemap (RFC 4791 §9.7.5), substring match.
    assert.deepEqual(await q(summary('<C:text-match>meeting</C:text-match>')), ['e1.ics']);
    assert.deepEqual(await q(summary('<C:text-match collation="i;ascii-casemap">TEAM MEET</C:text-match>')), ['e1.ics']);
    assert.deepEqual(await q(summary('<C:text-match collation="i;octet">meeting</C:text-match>')), []);
    assert.deepEqual(await q(summary('<C:text-match collation="i;octet">Meeting</C:text-match>')), ['e1.ics']);
    // Non-ASCII: only i;unicode-casemap folds Ł/ł; i;ascii-casemap compares them as they are.
    assert.deepEqual(await q(summary('<C:text-match collation="i;unicode-casemap">łukasz</C:text-match>')), ['e2.ics']);
    assert.deepEqual(await q(summary('<C:text-match collation="i;ascii-casemap">łukasz</C:text-match>')), []);
    assert.deepEqual(await q(summary('<C:text-match collation="i;ascii-casemap">LUNCH WITH Ł</C:text-match>')), ['e2.ics']);
    assert.deepEqual(await q(summary('<C:text-match negate-condition="yes">meeting</C:text-match>')), ['e2.ics']);
    assert.deepEqual(await q(summary('<C:text-match negate-condition="no">meeting</C:text-match>')), ['e1.ics']);
    // CATEGORIES holds a list: any of its values may match.
    assert.deepEqual(await q(compFilter('VEVENT', '<C:prop-filter name="CATEGORIES"><C:text-match>planning</C:text-match></C:prop-filter>')), ['e1.ics']);
    // A negated match needs the property to exist (RFC 4791 §9.7.2: the prop-filter tests the property).
    assert.deepEqual(await q(compFilter('VEVENT', '<C:prop-filter name="LOCATION"><C:text-match negate-condition="yes">Room 2</C:text-match></C:prop-filter>')), ['e1.ics']);
  });

  void it('param-filter: defined, is-not-defined and text-match on a parameter', async () => {
    const attendee = (inner: string): string => compFilter('VEVENT', `<C:prop-filter name="ATTENDEE">${inner}</C:prop-filter>`);
    assert.deepEqual(await q(attendee('<C:param-filter name="PARTSTAT"><C:text-match>NEEDS-ACTION</C:text-match></C:param-filter>')), ['e2.ics']);
    assert.deepEqual(await q(attendee('<C:param-filter name="PARTSTAT"/>')), ['e1.ics', 'e2.ics']);
    assert.deepEqual(await q(attendee('<C:param-filter name="CN"><C:is-not-defined/></C:param-filter>')), ['e2.ics']);
    assert.deepEqual(await q(attendee('<C:param-filter name="CN"><C:text-match collation="i;unicode-casemap">ZOË ÅNGSTRÖM</C:text-match></C:param-filter>')), ['e1.ics']);
    assert.deepEqual(await q(attendee('<C:param-filter name="CN"><C:text-match collation="i;ascii-casemap">ZOË ÅNGSTRÖM</C:text-match></C:param-filter>')), []);
    assert.deepEqual(await q(attendee('<C:param-filter name="PARTSTAT"><C:text-match negate-condition="yes">ACCEPTED</C:text-match></C:param-filter>')), ['e2.ics']);
    // The property value and the parameter must both match on the same ATTENDEE.
    assert.deepEqual(await q(attendee('<C:text-match>zoe@</C:text-match><C:param-filter name="PARTSTAT"><C:text-match>NEEDS-ACTION</C:text-match></C:param-filter>')), []);
  });

  void it('refuses an unsupported collation with 403 supported-collation', async () => {
    const response = await h.send('REPORT', CAL, {
      headers: { depth: '1' },
      body: calendarQueryBody(compFilter('VEVENT', '<C:prop-filter name="SUMMARY"><C:text-match collation="i;basic">x</C:text-match></C:prop-filter>')),
    });
    assert.equal(response.status, 403, response.text);
    assert.deepEqual(errorConditions(response.text), [caldav('supported-collation')]);
  });

  void it('refuses invalid filters with 403 valid-filter', async () => {
    const invalid = [
      compFilter('VEVENT').replace('name="VCALENDAR"', 'name="VEVENT"'),
      `${compFilter('VEVENT')}${compFilter('VTODO')}`,
      '<C:comp-filter name="VCALENDAR"><C:time-range start="20260101T000000Z" end="20260102T000000Z"/></C:comp-filter>',
      compFilter('VEVENT', timeRange('20260101T000000', '20260102T000000Z')),
      compFilter('VEVENT', timeRange('20260102T000000Z', '20260101T000000Z')),
      compFilter('VEVENT', '<C:time-range/>'),
      compFilter('VEVENT', '<C:prop-filter><C:is-not-defined/></C:prop-filter>'),
      compFilter('VEVENT', '<C:prop-filter name="SUMMARY"><C:text-match negate-condition="maybe">x</C:text-match></C:prop-filter>'),
      '',
    ];
    for (const filter of invalid) {
      const response = await h.send('REPORT', CAL, { headers: { depth: '1' }, body: calendarQueryBody(filter) });
      assert.equal(response.status, 403, `${filter}: ${response.text}`);
      assert.deepEqual(errorConditions(response.text), [caldav('valid-filter')], filter);
    }
  });

  void it('applies to a single calendar object with Depth 0', async () => {
    const hit = await report(h, `${CAL}e1.ics`, calendarQueryBody(compFilter('VEVENT')), '0');
    assert.deepEqual(hit.hrefs, [`${CAL}e1.ics`]);
    const miss = await report(h, `${CAL}e1.ics`, calendarQueryBody(compFilter('VTODO')), '0');
    assert.deepEqual([miss.status, miss.hrefs], [207, []]);
  });
});

/** One object and the ranges it must (true) or must not (false) match, per its RFC 4791 §9.9 row. */
interface Row {
  readonly name: string;
  readonly body: string;
  /** [start, end, matches]; with `alarm` the range goes on a VALARM comp-filter inside VEVENT. */
  readonly ranges: readonly (readonly [string, string, boolean])[];
  readonly component: string;
  readonly alarm?: boolean;
}

const ev = (name: string, lines: string[], ranges: Row['ranges']): Row => ({ name, body: event(name, lines), ranges, component: 'VEVENT' });
const td = (name: string, lines: string[], ranges: Row['ranges']): Row => ({ name, body: todo(name, lines), ranges, component: 'VTODO' });
const jr = (name: string, lines: string[], ranges: Row['ranges']): Row => ({
  name, body: ics('BEGIN:VJOURNAL', `UID:${name}`, 'DTSTAMP:20260101T000000Z', ...lines, 'SUMMARY:j', 'END:VJOURNAL'), ranges, component: 'VJOURNAL',
});
const fb = (name: string, lines: string[], ranges: Row['ranges']): Row => ({
  name, body: ics('BEGIN:VFREEBUSY', `UID:${name}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VFREEBUSY'), ranges, component: 'VFREEBUSY',
});
const alarm = (name: string, lines: string[], trigger: string[], ranges: Row['ranges']): Row => ({
  name, body: event(name, [...lines, 'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:a', ...trigger, 'END:VALARM']), ranges, component: 'VEVENT', alarm: true,
});

const ROWS: readonly Row[] = [
  // VEVENT, DTEND: (start < DTEND AND end > DTSTART)
  ev('ev-dtend', ['DTSTART:20260310T100000Z', 'DTEND:20260310T110000Z'], [
    ['20260310T090000Z', '20260310T100000Z', false], ['20260310T090000Z', '20260310T100001Z', true],
    ['20260310T105959Z', '20260310T120000Z', true], ['20260310T110000Z', '20260310T120000Z', false],
    ['20260310T101500Z', '20260310T103000Z', true],
  ]),
  // VEVENT, DURATION > 0: (start < DTSTART+DURATION AND end > DTSTART)
  ev('ev-duration', ['DTSTART:20260310T100000Z', 'DURATION:PT1H'], [
    ['20260310T090000Z', '20260310T100000Z', false], ['20260310T090000Z', '20260310T100001Z', true],
    ['20260310T105959Z', '20260310T120000Z', true], ['20260310T110000Z', '20260310T120000Z', false],
  ]),
  // VEVENT, DURATION of zero: (start <= DTSTART AND end > DTSTART)
  ev('ev-duration-zero', ['DTSTART:20260310T100000Z', 'DURATION:PT0S'], [
    ['20260310T100000Z', '20260310T110000Z', true], ['20260310T090000Z', '20260310T100000Z', false],
    ['20260310T090000Z', '20260310T100001Z', true], ['20260310T100001Z', '20260310T110000Z', false],
  ]),
  // VEVENT, DATE-TIME DTSTART only: (start <= DTSTART AND end > DTSTART)
  ev('ev-instant', ['DTSTART:20260310T100000Z'], [
    ['20260310T100000Z', '20260310T100001Z', true], ['20260310T090000Z', '20260310T100000Z', false],
    ['20260310T100001Z', '20260310T110000Z', false],
  ]),
  // VEVENT, DATE DTSTART only: (start < DTSTART+P1D AND end > DTSTART), the day in the calendar's zone (UTC here)
  ev('ev-allday', ['DTSTART;VALUE=DATE:20260310'], [
    ['20260309T230000Z', '20260310T000000Z', false], ['20260309T230000Z', '20260310T000001Z', true],
    ['20260310T235959Z', '20260311T010000Z', true], ['20260311T000000Z', '20260311T010000Z', false],
  ]),
  // All-day with an end date: DTEND is exclusive, two days here.
  ev('ev-allday-end', ['DTSTART;VALUE=DATE:20260310', 'DTEND;VALUE=DATE:20260312'], [
    ['20260309T000000Z', '20260310T000000Z', false], ['20260311T230000Z', '20260312T000000Z', true],
    ['20260312T000000Z', '20260313T000000Z', false],
  ]),
  // VTODO, DTSTART+DURATION: (start <= DTSTART+DURATION) AND ((end > DTSTART) OR (end >= DTSTART+DURATION))
  td('td-duration', ['DTSTART:20260410T100000Z', 'DURATION:PT1H'], [
    ['20260410T110000Z', '20260410T120000Z', true], ['20260410T110001Z', '20260410T120000Z', false],
    ['20260410T090000Z', '20260410T100000Z', false], ['20260410T090000Z', '20260410T100001Z', true],
  ]),
  // VTODO, DTSTART+DUE: ((start < DUE) OR (start <= DTSTART)) AND ((end > DTSTART) OR (end >= DUE))
  td('td-due', ['DTSTART:20260410T100000Z', 'DUE:20260410T110000Z'], [
    ['20260410T110000Z', '20260410T120000Z', false], ['20260410T105959Z', '20260410T120000Z', true],
    ['20260410T090000Z', '20260410T100000Z', false], ['20260410T090000Z', '20260410T100001Z', true],
  ]),
  // VTODO, DTSTART only: (start <= DTSTART) AND (end > DTSTART)
  td('td-start', ['DTSTART:20260410T100000Z'], [
    ['20260410T100000Z', '20260410T110000Z', true], ['20260410T090000Z', '20260410T100000Z', false],
    ['20260410T100001Z', '20260410T110000Z', false],
  ]),
  // VTODO, DUE only: (start < DUE) AND (end >= DUE)
  td('td-due-only', ['DUE:20260410T110000Z'], [
    ['20260410T100000Z', '20260410T110000Z', true], ['20260410T110000Z', '20260410T120000Z', false],
    ['20260410T100000Z', '20260410T105959Z', false], ['20260410T105959Z', '20260410T120000Z', true],
  ]),
  // VTODO, COMPLETED and CREATED: ((start <= CREATED) OR (start <= COMPLETED)) AND ((end >= CREATED) OR (end >= COMPLETED))
  td('td-created-completed', ['CREATED:20260410T080000Z', 'COMPLETED:20260410T120000Z'], [
    ['20260410T120000Z', '20260410T130000Z', true], ['20260410T120001Z', '20260410T130000Z', false],
    ['20260410T070000Z', '20260410T080000Z', true], ['20260410T070000Z', '20260410T075959Z', false],
  ]),
  // VTODO, COMPLETED only: (start <= COMPLETED) AND (end >= COMPLETED)
  td('td-completed', ['COMPLETED:20260410T120000Z'], [
    ['20260410T120000Z', '20260410T130000Z', true], ['20260410T110000Z', '20260410T120000Z', true],
    ['20260410T120001Z', '20260410T130000Z', false], ['20260410T110000Z', '20260410T115959Z', false],
  ]),
  // VTODO, CREATED only: (end > CREATED)
  td('td-created', ['CREATED:20260410T080000Z'], [
    ['20260410T070000Z', '20260410T080000Z', false], ['20260410T070000Z', '20260410T080001Z', true],
    ['20300101T000000Z', '20300102T000000Z', true],
  ]),
  // VTODO with none of them: TRUE
  td('td-none', ['SUMMARY:Someday'], [['19900101T000000Z', '19900102T000000Z', true], ['20990101T000000Z', '20990102T000000Z', true]]),
  // VJOURNAL: DATE-TIME instant, DATE whole day, no DTSTART never.
  jr('jr-datetime', ['DTSTART:20260510T100000Z'], [
    ['20260510T100000Z', '20260510T100001Z', true], ['20260510T090000Z', '20260510T100000Z', false],
  ]),
  jr('jr-date', ['DTSTART;VALUE=DATE:20260510'], [
    ['20260510T235959Z', '20260511T000000Z', true], ['20260511T000000Z', '20260511T010000Z', false],
    ['20260509T000000Z', '20260510T000000Z', false],
  ]),
  jr('jr-none', [], [['19900101T000000Z', '20990101T000000Z', false]]),
  // VFREEBUSY with DTSTART and DTEND: (start <= DTEND) AND (end > DTSTART)
  fb('fb-span', ['DTSTART:20260610T100000Z', 'DTEND:20260610T110000Z', 'FREEBUSY:20260610T100000Z/20260610T103000Z'], [
    ['20260610T110000Z', '20260610T120000Z', true], ['20260610T110001Z', '20260610T120000Z', false],
    ['20260610T090000Z', '20260610T100000Z', false], ['20260610T090000Z', '20260610T100001Z', true],
  ]),
  // VFREEBUSY with FREEBUSY periods only: (start < period end) AND (end > period start)
  fb('fb-periods', ['FREEBUSY:20260610T130000Z/20260610T140000Z,20260610T160000Z/PT30M'], [
    ['20260610T140000Z', '20260610T150000Z', false], ['20260610T135959Z', '20260610T150000Z', true],
    ['20260610T120000Z', '20260610T130000Z', false], ['20260610T161000Z', '20260610T162000Z', true],
  ]),
  // VALARM: (start <= trigger-time) AND (end > trigger-time), relative to the start or end, or absolute.
  alarm('al-before-start', ['DTSTART:20260710T100000Z', 'DTEND:20260710T110000Z'], ['TRIGGER:-PT15M'], [
    ['20260710T094500Z', '20260710T094600Z', true], ['20260710T094400Z', '20260710T094500Z', false],
    ['20260710T100000Z', '20260710T110000Z', false],
  ]),
  alarm('al-after-end', ['DTSTART:20260710T100000Z', 'DTEND:20260710T110000Z'], ['TRIGGER;RELATED=END:PT5M'], [
    ['20260710T110500Z', '20260710T110501Z', true], ['20260710T094500Z', '20260710T110500Z', false],
  ]),
  alarm('al-absolute', ['DTSTART:20260710T100000Z'], ['TRIGGER;VALUE=DATE-TIME:20260709T180000Z'], [
    ['20260709T180000Z', '20260709T180100Z', true], ['20260710T094500Z', '20260710T094600Z', false],
  ]),
  alarm('al-repeat', ['DTSTART:20260710T100000Z'], ['TRIGGER:-PT30M', 'REPEAT:2', 'DURATION:PT10M'], [
    ['20260710T095000Z', '20260710T095001Z', true], ['20260710T095001Z', '20260710T095959Z', false],
  ]),
  alarm('al-recurring', ['DTSTART:20260710T100000Z', 'RRULE:FREQ=DAILY;COUNT=5'], ['TRIGGER:-PT15M'], [
    ['20260714T094500Z', '20260714T094600Z', true], ['20260715T094500Z', '20260715T094600Z', false],
  ]),
];

void describe('RFC 4791 §9.9 time-range rows, at their boundaries', () => {
  const CAL = '/calendars/alice/rows/';
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkcalendar(h, CAL, { components: ALL_COMPONENTS })).status, 201);
    for (const row of ROWS) await put(h, `${CAL}${row.name}.ics`, row.body);
  });
  after(async () => h.close());

  for (const kind of ['VEVENT', 'VTODO', 'VJOURNAL', 'VFREEBUSY', 'VALARM']) {
    void it(`${kind} rows`, async () => {
      const rows = ROWS.filter((r) => (kind === 'VALARM' ? r.alarm === true : r.component === kind && r.alarm !== true));
      assert.ok(rows.length > 0);
      const wrong: string[] = [];
      for (const row of rows) {
        for (const [start, end, expected] of row.ranges) {
          const range = timeRange(start, end);
          const filter = row.alarm === true ? compFilter('VEVENT', `<C:comp-filter name="VALARM">${range}</C:comp-filter>`) : compFilter(row.component, range);
          const found = (await query(h, CAL, filter)).includes(`${CAL}${row.name}.ics`);
          if (found !== expected) wrong.push(`${row.name} [${start}, ${end}) → ${found ? 'matched' : 'missed'}, expected ${expected ? 'match' : 'no match'}`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }

  void it('open-ended ranges (only start or only end) compare with infinity', async () => {
    assert.ok((await query(h, CAL, compFilter('VEVENT', timeRange('20260310T105959Z')))).includes(`${CAL}ev-dtend.ics`));
    assert.ok(!(await query(h, CAL, compFilter('VEVENT', timeRange('20260310T110000Z')))).includes(`${CAL}ev-dtend.ics`));
    assert.ok((await query(h, CAL, compFilter('VEVENT', timeRange(undefined, '20260310T100001Z')))).includes(`${CAL}ev-dtend.ics`));
    assert.ok(!(await query(h, CAL, compFilter('VEVENT', timeRange(undefined, '20260310T100000Z')))).includes(`${CAL}ev-dtend.ics`));
  });

  void it('a time-range on a prop-filter tests that property value', async () => {
    const due = (start: string, end: string): string => compFilter('VTODO', `<C:prop-filter name="DUE">${timeRange(start, end)}</C:prop-filter>`);
    assert.deepEqual(names(CAL, await query(h, CAL, due('20260410T110000Z', '20260410T110001Z'))), ['td-due-only.ics', 'td-due.ics']);
    assert.deepEqual(names(CAL, await query(h, CAL, due('20260410T100000Z', '20260410T110000Z'))), []);
  });
});

void describe('recurrence in calendar-query', () => {
  const CAL = '/calendars/alice/recurring/';
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkcalendar(h, CAL)).status, 201);
    await put(h, `${CAL}moved.ics`, ics(
      'BEGIN:VEVENT', 'UID:moved', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260501T100000Z', 'DTEND:20260501T110000Z', 'RRULE:FREQ=DAILY;COUNT=5', 'SUMMARY:Daily', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:moved', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID:20260503T100000Z', 'DTSTART:20260510T150000Z', 'DTEND:20260510T160000Z', 'SUMMARY:Moved', 'END:VEVENT',
    ));
    await put(h, `${CAL}berlin.ics`, event('berlin', ['DTSTART;TZID=Europe/Berlin:20260323T090000', 'DTEND;TZID=Europe/Berlin:20260323T100000', 'RRULE:FREQ=WEEKLY']));
    await put(h, `${CAL}count.ics`, event('count', ['DTSTART:20260601T100000Z', 'DTEND:20260601T110000Z', 'RRULE:FREQ=DAILY;COUNT=3']));
    await put(h, `${CAL}until.ics`, event('until', ['DTSTART;TZID=America/New_York:20260601T090000', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;UNTIL=20260603T130000Z']));
    await put(h, `${CAL}exdate.ics`, event('exdate', ['DTSTART:20260701T100000Z', 'DTEND:20260701T110000Z', 'RRULE:FREQ=DAILY;COUNT=5', 'EXDATE:20260702T100000Z,20260704T100000Z']));
    await put(h, `${CAL}rdate.ics`, event('rdate', ['DTSTART:20260801T100000Z', 'DTEND:20260801T110000Z', 'RDATE:20260815T100000Z', 'RDATE;VALUE=PERIOD:20260820T100000Z/PT3H']));
    await put(h, `${CAL}birthday.ics`, event('birthday', ['DTSTART;VALUE=DATE:20000310', 'DTEND;VALUE=DATE:20000311', 'RRULE:FREQ=YEARLY']));
    await put(h, `${CAL}forever.ics`, event('forever', ['DTSTART:20260105T080000Z', 'DTEND:20260105T083000Z', 'RRULE:FREQ=WEEKLY;BYDAY=MO']));
  });
  after(async () => h.close());

  /** Which of `subjects` the range matches (other objects in the calendar recur on other days). */
  const on = async (start: string, end: string, ...subjects: string[]): Promise<string[]> =>
    names(CAL, await query(h, CAL, compFilter('VEVENT', timeRange(start, end)))).filter((name) => subjects.includes(name));

  void it('an overridden instance moved out of the range no longer matches there, and matches where it moved', async () => {
    assert.deepEqual(await on('20260503T000000Z', '20260504T000000Z', 'moved.ics'), []);
    assert.deepEqual(await on('20260510T000000Z', '20260511T000000Z', 'moved.ics'), ['moved.ics']);
    assert.deepEqual(await on('20260504T000000Z', '20260505T000000Z', 'moved.ics'), ['moved.ics']);
    assert.deepEqual(await on('20260506T000000Z', '20260510T000000Z', 'moved.ics'), []);
    // The override's own properties decide the filter for its instance.
    const movedSummary = compFilter('VEVENT', `${timeRange('20260510T000000Z', '20260511T000000Z')}<C:prop-filter name="SUMMARY"><C:text-match>Daily</C:text-match></C:prop-filter>`);
    assert.deepEqual(await query(h, CAL, movedSummary), []);
  });

  void it('follows the wall clock across the DST change in Europe/Berlin', async () => {
    // 09:00 CET = 08:00Z before 29 March 2026, 09:00 CEST = 07:00Z after.
    assert.deepEqual(await on('20260323T080000Z', '20260323T081500Z', 'berlin.ics'), ['berlin.ics']);
    assert.deepEqual(await on('20260330T070000Z', '20260330T071500Z', 'berlin.ics'), ['berlin.ics']);
    assert.deepEqual(await on('20260330T080000Z', '20260330T090000Z', 'berlin.ics'), []);
    assert.deepEqual(await on('20261026T080000Z', '20261026T081500Z', 'berlin.ics'), ['berlin.ics']);
    assert.deepEqual(await on('20261026T070000Z', '20261026T080000Z', 'berlin.ics'), []);
  });

  void it('ends at COUNT and UNTIL, skips EXDATE, adds RDATE', async () => {
    const series = ['count.ics', 'until.ics', 'exdate.ics', 'rdate.ics'];
    assert.deepEqual(await on('20260603T000000Z', '20260604T000000Z', ...series), ['count.ics', 'until.ics']);
    assert.deepEqual(await on('20260604T000000Z', '20260605T000000Z', ...series), []);
    assert.deepEqual(await on('20260702T000000Z', '20260703T000000Z', ...series), []);
    assert.deepEqual(await on('20260703T000000Z', '20260704T000000Z', ...series), ['exdate.ics']);
    assert.deepEqual(await on('20260704T000000Z', '20260705T000000Z', ...series), []);
    assert.deepEqual(await on('20260705T000000Z', '20260706T000000Z', ...series), ['exdate.ics']);
    assert.deepEqual(await on('20260815T100000Z', '20260815T100001Z', ...series), ['rdate.ics']);
    assert.deepEqual(await on('20260820T125959Z', '20260820T130000Z', ...series), ['rdate.ics']);
    assert.deepEqual(await on('20260802T000000Z', '20260814T000000Z', ...series), []);
  });

  void it('answers the same when asked again, and follows an edit of the rule (instances remembered per ETag)', async () => {
    const path = `${CAL}edited.ics`;
    await put(h, path, event('edited', ['DTSTART:20270104T100000Z', 'DTEND:20270104T110000Z', 'RRULE:FREQ=WEEKLY;COUNT=4']));
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(await on('20270111T100000Z', '20270111T103000Z', 'edited.ics'), ['edited.ics'], `round ${round}: an instance`);
      assert.deepEqual(await on('20270105T000000Z', '20270111T000000Z', 'edited.ics'), [], `round ${round}: between instances`);
    }
    // The same series moved by a day and given an override: the remembered instances of the old
    // bytes must not decide for the new ones.
    const edit = await h.send('PUT', path, { headers: TEXT_CALENDAR, body: ics(
      'BEGIN:VEVENT', 'UID:edited', 'DTSTAMP:20260101T000000Z', 'DTSTART:20270105T100000Z', 'DTEND:20270105T110000Z', 'RRULE:FREQ=WEEKLY;COUNT=4', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:edited', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID:20270112T100000Z', 'DTSTART:20270108T060000Z', 'DTEND:20270108T070000Z', 'END:VEVENT',
    ) });
    assert.equal(edit.status, 204, edit.text);
    assert.deepEqual(await on('20270111T100000Z', '20270111T103000Z', 'edited.ics'), []);
    assert.deepEqual(await on('20270105T100000Z', '20270105T103000Z', 'edited.ics'), ['edited.ics']);
    assert.deepEqual(await on('20270108T060000Z', '20270108T061500Z', 'edited.ics'), ['edited.ics'], 'where the override moved its instance');
    assert.deepEqual(await on('20270112T000000Z', '20270113T000000Z', 'edited.ics'), [], 'where the override moved it from');
  });

  void it('finds far instances of yearly all-day and unbounded weekly rules', async () => {
    assert.deepEqual(await on('20350310T120000Z', '20350310T130000Z', 'birthday.ics'), ['birthday.ics']);
    assert.deepEqual(await on('20350311T000000Z', '20350311T010000Z', 'birthday.ics'), []);
    // 7 January 2036 is a Monday.
    assert.deepEqual(await on('20360107T080000Z', '20360107T080100Z', 'forever.ics'), ['forever.ics']);
    assert.deepEqual(await on('20360108T080000Z', '20360108T080100Z', 'forever.ics'), []);
  });

  void it('answers exactly, without stalling, for hostile FREQ=SECONDLY rules far from their start', async () => {
    await put(h, `${CAL}hostile.ics`, event('hostile', ['DTSTART:20260101T000000Z', 'RRULE:FREQ=SECONDLY']));
    // Every second of 03:00-03:59 UTC, every day, forever.
    await put(h, `${CAL}hostile-3am.ics`, event('hostile-3am', ['DTSTART:20260101T000000Z', 'RRULE:FREQ=SECONDLY;BYHOUR=3']));
    const subjects = ['hostile.ics', 'hostile-3am.ics'];
    const at = async (start: string, end: string): Promise<string[]> =>
      names(CAL, await query(h, CAL, compFilter('VEVENT', timeRange(start, end)))).filter((name) => subjects.includes(name));
    assert.deepEqual(await at('20300601T100000Z', '20300601T100010Z'), ['hostile.ics'], 'no instance of the 03:00 rule lies at 10:00');
    assert.deepEqual(await at('20300601T030000Z', '20300601T030010Z'), ['hostile-3am.ics', 'hostile.ics']);
    const range = ['20300601T030000Z', '20300601T030010Z'] as const;
    const expanded = await report(h, CAL, calendarQueryBody(compFilter('VEVENT', timeRange(...range)), {
      prop: `<C:calendar-data><C:expand start="${range[0]}" end="${range[1]}"/></C:calendar-data>`,
    }));
    assert.equal(expanded.status, 207);
    for (const name of subjects) {
      const starts = contentLines(expanded.data.get(`${CAL}${name}`) ?? '').filter((l) => l.startsWith('DTSTART'));
      assert.deepEqual(starts, Array.from({ length: 10 }, (_, n) => `DTSTART:20300601T03000${n}Z`), name);
    }
  });

  void it('never answers with part of the instances: the href that holds too many says so with 507, the others are answered', async () => {
    await put(h, `${CAL}dense.ics`, event('dense', ['DTSTART:19700101T000000Z', 'RRULE:FREQ=SECONDLY']));
    await put(h, `${CAL}sparse.ics`, event('sparse', ['DTSTART:20300601T090000Z', 'DTEND:20300601T100000Z']));
    const range = ['20300601T000000Z', '20300602T000000Z'] as const;
    // Without expand the dense object matches (its first second is in the range) and is answered whole.
    assert.deepEqual(names(CAL, await query(h, CAL, compFilter('VEVENT', timeRange(...range)))).filter((n) => n === 'dense.ics' || n === 'sparse.ics'), ['dense.ics', 'sparse.ics']);
    // A day of a SECONDLY rule is 86,400 instances, more than the server expands for one object.
    const expanded = await report(h, CAL, calendarQueryBody(compFilter('VEVENT', timeRange(...range)), {
      prop: `<D:getetag/><C:calendar-data><C:expand start="${range[0]}" end="${range[1]}"/></C:calendar-data>`,
    }));
    assert.equal(expanded.status, 207);
    const dense = rawResponses(expanded.text).find((r) => r.href === `${CAL}dense.ics`);
    assert.deepEqual(dense, { href: `${CAL}dense.ics`, status: 'HTTP/1.1 507 Insufficient Storage', errors: [dav('number-of-matches-within-limits')], propstats: 0 });
    assert.deepEqual(contentLines(expanded.data.get(`${CAL}sparse.ics`) ?? '').filter((l) => l.startsWith('DTSTART')), ['DTSTART:20300601T090000Z']);
    // free-busy needs every instance too: the whole answer is refused rather than missing busy time.
    const freeBusy = await h.send('REPORT', CAL, { headers: { depth: '1', 'content-type': 'application/xml' }, body:
      `<?xml version="1.0"?><C:free-busy-query ${NS_DECL}><C:time-range start="${range[0]}" end="${range[1]}"/></C:free-busy-query>` });
    assert.equal(freeBusy.status, 507);
    assert.deepEqual(errorConditions(freeBusy.text), [dav('number-of-matches-within-limits')]);
    for (const name of ['dense.ics', 'sparse.ics']) assert.equal((await h.send('DELETE', `${CAL}${name}`)).status, 204);
  });
});

void describe('floating times and query time zones', () => {
  const NY = '/calendars/alice/new-york/';
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkcalendar(h, NY, { props: '<C:calendar-timezone-id>America/New_York</C:calendar-timezone-id>' })).status, 201);
    await put(h, `${NY}floating.ics`, event('floating', ['DTSTART:20260310T100000', 'DTEND:20260310T110000']));
    await put(h, `${NY}allday.ics`, event('allday', ['DTSTART;VALUE=DATE:20260310', 'DTEND;VALUE=DATE:20260311']));
    await put(h, `${NY}utc.ics`, event('utc', ['DTSTART:20260310T100000Z', 'DTEND:20260310T110000Z']));
    // Its own VTIMEZONE named Europe/Berlin (+05:00) applies to this object only.
    await put(h, `${NY}own-zone.ics`, ics(
      'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0500', 'TZOFFSETTO:+0500', 'END:STANDARD', 'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:own-zone', 'DTSTAMP:20260101T000000Z', 'DTSTART;TZID=Europe/Berlin:20260310T100000', 'DTEND;TZID=Europe/Berlin:20260310T110000', 'END:VEVENT',
    ));
    await put(h, `${NY}real-zone.ics`, event('real-zone', ['DTSTART;TZID=Europe/Berlin:20260310T100000', 'DTEND;TZID=Europe/Berlin:20260310T110000']));
  });
  after(async () => h.close());

  const on = async (start: string, end: string, extra = ''): Promise<string[]> => names(NY, await query(h, NY, compFilter('VEVENT', timeRange(start, end)), extra));
  const timed = async (start: string, end: string, extra = ''): Promise<string[]> => (await on(start, end, extra)).filter((name) => name !== 'allday.ics');

  void it("reads floating times and dates in the calendar's calendar-timezone-id", async () => {
    // 10:00 in New York on 10 March 2026 (EDT) is 14:00Z.
    assert.deepEqual(await on('20260310T140000Z', '20260310T141500Z'), ['allday.ics', 'floating.ics']);
    assert.deepEqual(await on('20260310T100000Z', '20260310T101500Z'), ['allday.ics', 'utc.ics']);
    // The all-day event runs from 04:00Z to 04:00Z the next day.
    assert.deepEqual(await on('20260310T000000Z', '20260310T040000Z'), []);
    assert.deepEqual(await on('20260311T035900Z', '20260311T040000Z'), ['allday.ics']);
    assert.deepEqual(await on('20260311T040000Z', '20260311T050000Z'), []);
  });

  void it("prefers the query's own C:timezone-id and C:timezone for floating times", async () => {
    const tokyo = '<C:timezone-id>Asia/Tokyo</C:timezone-id>';
    // 10:00 in Tokyo is 01:00Z.
    assert.deepEqual(await on('20260310T010000Z', '20260310T011500Z', tokyo), ['allday.ics', 'floating.ics']);
    assert.deepEqual(await timed('20260310T140000Z', '20260310T141500Z', tokyo), []);
    assert.deepEqual(await on('20260310T010000Z', '20260310T011500Z'), []);
    // The all-day event is 10 March in Tokyo: 9 March 15:00Z to 10 March 15:00Z.
    assert.deepEqual(await on('20260309T140000Z', '20260309T150000Z', tokyo), []);
    assert.deepEqual(await on('20260310T145959Z', '20260310T150000Z', tokyo), ['allday.ics']);
    const vtimezone = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VTIMEZONE', 'TZID:Plus-Five', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0500', 'TZOFFSETTO:+0500', 'END:STANDARD', 'END:VTIMEZONE', 'END:VCALENDAR', ''].join('\r\n');
    const inline = `<C:timezone>${vtimezone}</C:timezone>`;
    assert.deepEqual(await timed('20260310T050000Z', '20260310T051500Z', inline), ['floating.ics', 'own-zone.ics']);
    const unknown = await h.send('REPORT', NY, { headers: { depth: '1' }, body: calendarQueryBody(compFilter('VEVENT'), { extra: '<C:timezone-id>Mars/Olympus_Mons</C:timezone-id>' }) });
    assert.equal(unknown.status, 403);
    assert.deepEqual(errorConditions(unknown.text), [caldav('valid-timezone')]);
  });

  void it('expands floating times to UTC in the query time zone, else the calendar one', async () => {
    const expandIn = async (extra: string): Promise<string[]> => {
      const range = ['20260309T000000Z', '20260312T000000Z'] as const;
      const result = await report(h, NY, calendarQueryBody(compFilter('VEVENT', timeRange(...range)), {
        prop: `<C:calendar-data><C:expand start="${range[0]}" end="${range[1]}"/></C:calendar-data>`, extra,
      }));
      return contentLines(result.data.get(`${NY}floating.ics`) ?? '').filter((l) => /^(DTSTART|DTEND)[:;]/u.test(l));
    };
    assert.deepEqual(await expandIn(''), ['DTSTART:20260310T140000Z', 'DTEND:20260310T150000Z']);
    assert.deepEqual(await expandIn('<C:timezone-id>Asia/Tokyo</C:timezone-id>'), ['DTSTART:20260310T010000Z', 'DTEND:20260310T020000Z']);
  });

  void it("expands floating times of a multiget in the calendar's time zone, and sends unexpanded data as stored", async () => {
    const multiget = (data: string): Promise<string> =>
      report(h, NY, `<C:calendar-multiget ${NS_DECL}><D:prop><D:getetag/>${data}</D:prop><D:href>${NY}floating.ics</D:href></C:calendar-multiget>`)
        .then((result) => result.data.get(`${NY}floating.ics`) ?? '');
    const expanded = contentLines(await multiget('<C:calendar-data><C:expand start="20260309T000000Z" end="20260312T000000Z"/></C:calendar-data>'));
    assert.deepEqual(expanded.filter((l) => /^(DTSTART|DTEND)[:;]/u.test(l)), ['DTSTART:20260310T140000Z', 'DTEND:20260310T150000Z']);
    const plain = contentLines(await multiget('<C:calendar-data/>'));
    assert.deepEqual(plain.filter((l) => /^(DTSTART|DTEND)[:;]/u.test(l)), ['DTSTART:20260310T100000', 'DTEND:20260310T110000']);
  });

  void it("applies an object's embedded VTIMEZONE to that object only", async () => {
    // own-zone: 10:00 at +05:00 = 05:00Z; real-zone: 10:00 CET = 09:00Z.
    assert.deepEqual(await timed('20260310T050000Z', '20260310T051500Z'), ['own-zone.ics']);
    assert.deepEqual(await timed('20260310T090000Z', '20260310T091500Z'), ['real-zone.ics']);
  });

  void it('moves floating events when the calendar time zone changes', async () => {
    const changed = await proppatch(h, NY, '<C:calendar-timezone-id>Asia/Tokyo</C:calendar-timezone-id>');
    assert.equal(changed.status, 207);
    assert.match(changed.text, /HTTP\/1\.1 200 OK/u);
    assert.deepEqual(await on('20260310T010000Z', '20260310T011500Z'), ['allday.ics', 'floating.ics']);
    assert.deepEqual(await timed('20260310T140000Z', '20260310T141500Z'), []);
    await proppatch(h, NY, '<C:calendar-timezone-id>America/New_York</C:calendar-timezone-id>');
  });
});

void describe('calendar-data: comp/prop selection, expand, limit-recurrence-set', () => {
  const CAL = '/calendars/alice/data/';
  const BERLIN = [
    'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
    'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD', 'END:VTIMEZONE',
  ];
  const SERIES = ics(
    ...BERLIN,
    'BEGIN:VEVENT', 'UID:series', 'DTSTAMP:20260101T000000Z', 'DTSTART;TZID=Europe/Berlin:20260323T090000', 'DTEND;TZID=Europe/Berlin:20260323T100000', 'RRULE:FREQ=WEEKLY;COUNT=10', 'SUMMARY:Weekly', 'DESCRIPTION:Long text', 'LOCATION:Here',
    'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Soon', 'TRIGGER:-PT10M', 'END:VALARM', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:series', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID;TZID=Europe/Berlin:20260330T090000', 'DTSTART;TZID=Europe/Berlin:20260331T140000', 'DTEND;TZID=Europe/Berlin:20260331T150000', 'SUMMARY:Moved', 'END:VEVENT',
  );
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkcalendar(h, CAL)).status, 201);
    await put(h, `${CAL}series.ics`, SERIES);
  });
  after(async () => h.close());

  const dataFor = async (calendarData: string, filter = compFilter('VEVENT')): Promise<string> => {
    const result = await report(h, CAL, calendarQueryBody(filter, { prop: `<D:getetag/>${calendarData}` }));
    assert.equal(result.status, 207, result.text);
    const text = result.data.get(`${CAL}series.ics`);
    assert.ok(text !== undefined, result.text);
    return text;
  };

  void it('without selection returns the stored object byte for byte', async () => {
    assert.equal(await dataFor('<C:calendar-data/>'), SERIES);
    assert.deepEqual(contentLines(await dataFor('<C:calendar-data><C:comp name="VCALENDAR"><C:allprop/><C:allcomp/></C:comp></C:calendar-data>')), contentLines(SERIES));
  });

  void it('returns only the selected components and properties (RFC 4791 §9.6.1-4)', async () => {
    const text = await dataFor(
      '<C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="UID"/><C:prop name="SUMMARY"/><C:prop name="RECURRENCE-ID"/><C:prop name="DESCRIPTION" novalue="yes"/><C:comp name="VALARM"><C:prop name="TRIGGER"/></C:comp></C:comp></C:comp></C:calendar-data>',
    );
    assert.deepEqual(contentLines(text), [
      'BEGIN:VCALENDAR', 'VERSION:2.0',
      'BEGIN:VEVENT', 'UID:series', 'SUMMARY:Weekly', 'DESCRIPTION:', 'BEGIN:VALARM', 'TRIGGER:-PT10M', 'END:VALARM', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:series', 'RECURRENCE-ID;TZID=Europe/Berlin:20260330T090000', 'SUMMARY:Moved', 'END:VEVENT',
      'END:VCALENDAR',
    ]);
    const withAlarm = contentLines(await dataFor('<C:calendar-data><C:comp name="VCALENDAR"><C:comp name="VEVENT"><C:prop name="UID"/><C:comp name="VALARM"><C:allprop/></C:comp></C:comp></C:comp></C:calendar-data>'));
    assert.ok(withAlarm.includes('TRIGGER:-PT10M'));
    assert.ok(!withAlarm.includes('BEGIN:VTIMEZONE'));
    assert.ok(!withAlarm.some((l) => l.startsWith('SUMMARY')));
  });

  void it('expands the recurrence set into UTC instances with RECURRENCE-ID (RFC 4791 §9.6.5)', async () => {
    const range = '<C:expand start="20260323T000000Z" end="20260407T000000Z"/>';
    const text = await dataFor(`<C:calendar-data>${range}</C:calendar-data>`, compFilter('VEVENT', timeRange('20260323T000000Z', '20260407T000000Z')));
    const lines = contentLines(text);
    assert.ok(!lines.includes('BEGIN:VTIMEZONE'), text);
    assert.ok(!lines.some((l) => l.startsWith('RRULE') || l.includes('TZID=')), text);
    const instances = text.split('BEGIN:VEVENT').slice(1).map((block) => contentLines(block).filter((l) => /^(DTSTART|DTEND|RECURRENCE-ID|SUMMARY)[;:]/u.test(l)).sort());
    assert.deepEqual(instances, [
      ['DTEND:20260323T090000Z', 'DTSTART:20260323T080000Z', 'RECURRENCE-ID:20260323T080000Z', 'SUMMARY:Weekly'],
      ['DTEND:20260331T130000Z', 'DTSTART:20260331T120000Z', 'RECURRENCE-ID:20260330T070000Z', 'SUMMARY:Moved'],
      ['DTEND:20260406T080000Z', 'DTSTART:20260406T070000Z', 'RECURRENCE-ID:20260406T070000Z', 'SUMMARY:Weekly'],
    ]);
  });

  void it('limit-recurrence-set keeps the master and only the overrides that touch the range (RFC 4791 §9.6.6)', async () => {
    const limited = (start: string, end: string): Promise<string[]> =>
      dataFor(`<C:calendar-data><C:limit-recurrence-set start="${start}" end="${end}"/></C:calendar-data>`).then(contentLines);
    const far = await limited('20260406T000000Z', '20260407T000000Z');
    assert.ok(far.includes('RRULE:FREQ=WEEKLY;COUNT=10'));
    assert.ok(!far.includes('SUMMARY:Moved'), 'the override is outside the range');
    assert.equal(far.filter((l) => l === 'BEGIN:VEVENT').length, 1);
    const near = await limited('20260331T000000Z', '20260401T000000Z');
    assert.ok(near.includes('SUMMARY:Moved'), 'the override moved into the range');
    const original = await limited('20260330T000000Z', '20260331T000000Z');
    assert.ok(original.includes('SUMMARY:Moved'), 'the override replaces an instance in the range');
  });

  void it('refuses calendar-data in a format the server does not offer with supported-calendar-data', async () => {
    const response = await h.send('REPORT', CAL, {
      headers: { depth: '1' },
      body: calendarQueryBody(compFilter('VEVENT'), { prop: '<C:calendar-data content-type="application/calendar+json"/>' }),
    });
    assert.equal(response.status, 403, response.text);
    assert.deepEqual(errorConditions(response.text), [caldav('supported-calendar-data')]);
  });
});

void describe('calendar-multiget', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice', 'bob']);
    await mkcalendar(h, '/calendars/alice/second/');
    await put(h, '/calendars/alice/default/a%20b.ics', event('ab', ['DTSTART:20260310T090000Z', 'SUMMARY:Spaced']));
    await put(h, '/calendars/alice/second/c.ics', event('c', ['DTSTART:20260310T090000Z', 'SUMMARY:Second']));
  });
  after(async () => h.close());

  void it('answers every href in order, found ones with their data and the rest as 404', async () => {
    const hrefs = [
      '/calendars/alice/default/a%20b.ics', '/calendars/alice/default/missing.ics', '/calendars/alice/second/c.ics',
      '/calendars/alice/nowhere/x.ics', '/calendars/bob/default/a%20b.ics', '/calendars/alice/default/a%20b.ics',
    ];
    const body = `<C:calendar-multiget ${NS_DECL}><D:prop><D:getetag/><C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="SUMMARY"/></C:comp></C:comp></C:calendar-data></D:prop>${hrefs.map((href) => `<D:href>${href}</D:href>`).join('')}</C:calendar-multiget>`;
    const response = await h.send('REPORT', '/calendars/alice/default/', { headers: { depth: '1' }, body });
    assert.equal(response.status, 207);
    assert.deepEqual(rawResponses(response.text).map((r) => [r.href, r.status ?? `${r.propstats} propstat`]), [
      ['/calendars/alice/default/a%20b.ics', '1 propstat'],
      ['/calendars/alice/default/missing.ics', 'HTTP/1.1 404 Not Found'],
      ['/calendars/alice/second/c.ics', '1 propstat'],
      ['/calendars/alice/nowhere/x.ics', 'HTTP/1.1 404 Not Found'],
      ['/calendars/bob/default/a%20b.ics', 'HTTP/1.1 404 Not Found'],
    ]);
    const result = await report(h, '/calendars/alice/default/', body);
    assert.deepEqual(contentLines(result.data.get('/calendars/alice/second/c.ics') ?? ''), ['BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'SUMMARY:Second', 'END:VEVENT', 'END:VCALENDAR']);
  });
});

void describe('free-busy-query', () => {
  const CAL = '/calendars/alice/busy/';
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkcalendar(h, CAL, { components: ['VEVENT', 'VTODO', 'VFREEBUSY'] })).status, 201);
    const day = (uid: string, start: string, end: string, extra: string[] = []): string => event(uid, [`DTSTART:20260310T${start}Z`, `DTEND:20260310T${end}Z`, ...extra]);
    await put(h, `${CAL}busy.ics`, day('busy', '090000', '100000', ['TRANSP:OPAQUE']));
    await put(h, `${CAL}overlap.ics`, day('overlap', '093000', '103000', ['STATUS:CONFIRMED']));
    await put(h, `${CAL}transparent.ics`, day('transparent', '103000', '113000', ['TRANSP:TRANSPARENT']));
    await put(h, `${CAL}cancelled.ics`, day('cancelled', '110000', '120000', ['STATUS:CANCELLED']));
    await put(h, `${CAL}tentative.ics`, day('tentative', '120000', '130000', ['STATUS:TENTATIVE']));
    await put(h, `${CAL}late.ics`, event('late', ['DTSTART:20260310T230000Z', 'DTEND:20260311T010000Z']));
    await put(h, `${CAL}other-day.ics`, event('other-day', ['DTSTART:20260312T090000Z', 'DTEND:20260312T100000Z']));
    await put(h, `${CAL}daily.ics`, event('daily', ['DTSTART:20260309T070000Z', 'DTEND:20260309T080000Z', 'RRULE:FREQ=DAILY;COUNT=3']));
    await put(h, `${CAL}task.ics`, todo('task', ['DTSTART:20260310T150000Z', 'DUE:20260310T160000Z']));
    await put(h, `${CAL}stored.ics`, ics(
      'BEGIN:VFREEBUSY', 'UID:stored', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260310T000000Z', 'DTEND:20260311T000000Z',
      'FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260310T140000Z/20260310T150000Z', 'FREEBUSY:20260310T170000Z/PT1H', 'END:VFREEBUSY',
    ));
  });
  after(async () => h.close());

  void it('returns one VFREEBUSY honouring TRANSP, CANCELLED, TENTATIVE and stored VFREEBUSY periods', async () => {
    const response = await h.send('REPORT', CAL, {
      headers: { depth: '1' },
      body: `<C:free-busy-query ${NS_DECL}>${timeRange('20260310T000000Z', '20260311T000000Z')}</C:free-busy-query>`,
    });
    assert.equal(response.status, 200, response.text);
    assert.match(response.headers['Content-Type'] ?? '', /^text\/calendar/u);
    const lines = contentLines(response.text);
    assert.equal(lines.filter((l) => l === 'BEGIN:VFREEBUSY').length, 1);
    assert.ok(lines.includes('DTSTART:20260310T000000Z'));
    assert.ok(lines.includes('DTEND:20260311T000000Z'));
    const periods = lines.filter((l) => l.startsWith('FREEBUSY')).flatMap((line) => {
      const colon = line.indexOf(':');
      const type = /FBTYPE=([A-Z-]+)/u.exec(line.slice(0, colon))?.[1] ?? 'BUSY';
      return line.slice(colon + 1).split(',').map((period) => `${type} ${period}`);
    }).sort();
    assert.deepEqual(periods, [
      'BUSY 20260310T070000Z/20260310T080000Z',
      'BUSY 20260310T090000Z/20260310T103000Z',
      'BUSY 20260310T170000Z/20260310T180000Z',
      'BUSY 20260310T230000Z/20260311T000000Z',
      'BUSY-TENTATIVE 20260310T120000Z/20260310T130000Z',
      'BUSY-UNAVAILABLE 20260310T140000Z/20260310T150000Z',
    ]);
  });

  void it('needs a time-range', async () => {
    const response = await h.send('REPORT', CAL, { headers: { depth: '1' }, body: `<C:free-busy-query ${NS_DECL}/>` });
    assert.equal(response.status, 400);
  });

  void it('is listed in supported-report-set only where it applies', async () => {
    const response = await h.send('REPORT', `${CAL}busy.ics`, {
      headers: { depth: '0' },
      body: `<C:free-busy-query ${NS_DECL}>${timeRange('20260310T000000Z', '20260311T000000Z')}</C:free-busy-query>`,
    });
    assert.equal(response.status, 403);
    assert.deepEqual(errorConditions(response.text), [dav('supported-report')]);
  });
});
