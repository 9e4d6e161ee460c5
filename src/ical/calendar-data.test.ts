// Tests for RFC 4791 §9.6 partial retrieval (calendar-data).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type ICAL from 'ical.js';
import { renderCalendarData } from './calendar-data.ts';
import { parseCalendar } from './parse.ts';
import { prepareTimezones, resolveZone } from './timezones.ts';
import { ExpansionLimitExceeded } from './types.ts';
import type { CalendarDataRequest, CompSelection } from './types.ts';

const HEADER = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//Test//EN'];
function ics(...lines: string[]): string {
  return [...HEADER, ...lines, 'END:VCALENDAR', ''].join('\r\n');
}
function render(original: string, request: CalendarDataRequest, floatingZone?: ICAL.Timezone): string {
  const vcalendar = parseCalendar(original);
  prepareTimezones(vcalendar);
  return renderCalendarData(original, vcalendar, request, floatingZone === undefined ? {} : { floatingZone });
}
function at(day: string, time = '000000'): number {
  const m = /^(\d{4})(\d\d)(\d\d)$/.exec(day);
  assert.ok(m);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(time.slice(0, 2)), Number(time.slice(2, 4)), Number(time.slice(4, 6)));
}
function sel(name: string, props: string[] | 'all', comps: CompSelection[] | 'all', novalue: string[] = []): CompSelection {
  return {
    name,
    allProps: props === 'all',
    props: props === 'all' ? [] : props.map((p) => ({ name: p, novalue: novalue.includes(p) })),
    allComps: comps === 'all',
    comps: comps === 'all' ? [] : comps,
  };
}

const PARIS = [
  'BEGIN:VTIMEZONE', 'TZID:Europe/Paris',
  'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
  'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
  'END:VTIMEZONE',
];

const standup = ics(
  ...PARIS,
  'BEGIN:VEVENT',
  'UID:daily',
  'DTSTAMP:20240101T000000Z',
  'DTSTART;TZID=Europe/Paris:20240101T100000',
  'DTEND;TZID=Europe/Paris:20240101T110000',
  'RRULE:FREQ=DAILY;COUNT=5',
  'EXDATE;TZID=Europe/Paris:20240104T100000',
  'SUMMARY:Standup',
  'DESCRIPTION:Daily sync',
  'BEGIN:VALARM',
  'ACTION:DISPLAY',
  'DESCRIPTION:Soon',
  'TRIGGER:-PT5M',
  'END:VALARM',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:daily',
  'RECURRENCE-ID;TZID=Europe/Paris:20240103T100000',
  'DTSTAMP:20240101T000000Z',
  'DTSTART;TZID=Europe/Paris:20240103T140000',
  'DTEND;TZID=Europe/Paris:20240103T150000',
  'SUMMARY:Moved standup',
  'END:VEVENT',
);

void describe('renderCalendarData: nothing requested', () => {
  void it('returns the stored text byte for byte', () => {
    const original = 'BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:a\nDTSTAMP:20240101T000000Z\nDTSTART:20240101T100000Z\n'
      + 'SUMMARY:A very long summary line that goes on and on and on and on and on and on and on\nEND:VEVENT\nEND:VCALENDAR\n';
    assert.equal(render(original, {}), original);
  });
});

void describe('renderCalendarData: comp selection', () => {
  void it('keeps the selected properties and components, with novalue', () => {
    const request = { comp: sel('VCALENDAR', ['VERSION'], [sel('VEVENT', ['UID', 'SUMMARY', 'DTSTART'], [], ['DTSTART'])]) };
    assert.equal(render(standup, request), [
      'BEGIN:VCALENDAR', 'VERSION:2.0',
      'BEGIN:VEVENT', 'UID:daily', 'DTSTART;TZID=Europe/Paris:', 'SUMMARY:Standup', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:daily', 'DTSTART;TZID=Europe/Paris:', 'SUMMARY:Moved standup', 'END:VEVENT',
      'END:VCALENDAR', '',
    ].join('\r\n'));
  });
  void it('keeps VTIMEZONE and nested components only when selected', () => {
    const request = {
      comp: sel('VCALENDAR', [], [sel('VTIMEZONE', 'all', 'all'), sel('VEVENT', ['RECURRENCE-ID'], [sel('VALARM', ['TRIGGER'], [])])]),
    };
    assert.equal(render(standup, request), [
      'BEGIN:VCALENDAR', ...PARIS,
      'BEGIN:VEVENT', 'BEGIN:VALARM', 'TRIGGER:-PT5M', 'END:VALARM', 'END:VEVENT',
      'BEGIN:VEVENT', 'RECURRENCE-ID;TZID=Europe/Paris:20240103T100000', 'END:VEVENT',
      'END:VCALENDAR', '',
    ].join('\r\n'));
  });
  void it('allprop and allcomp return everything, re-serialised with CRLF', () => {
    const lf = standup.replaceAll('\r\n', '\n');
    assert.equal(render(lf, { comp: sel('VCALENDAR', 'all', 'all') }), standup);
  });
});

void describe('renderCalendarData: expand', () => {
  void it('returns one UTC component per instance, overrides honoured, no VTIMEZONE', () => {
    assert.equal(render(standup, { expand: { start: at('20240102'), end: at('20240105') } }), ics(
      'BEGIN:VEVENT', 'UID:daily', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240102T090000Z', 'RECURRENCE-ID:20240102T090000Z',
      'DTEND:20240102T100000Z', 'SUMMARY:Standup', 'DESCRIPTION:Daily sync',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Soon', 'TRIGGER:-PT5M', 'END:VALARM', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:daily', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240103T130000Z', 'RECURRENCE-ID:20240103T090000Z',
      'DTEND:20240103T140000Z', 'SUMMARY:Moved standup', 'END:VEVENT',
    ));
  });
  void it('drops instances outside the range, including an override moved out', () => {
    const out = render(standup, { expand: { start: at('20240103', '080000'), end: at('20240103', '120000') } });
    assert.equal(out, ics());
  });
  void it('keeps a non-recurring component in UTC without RECURRENCE-ID', () => {
    const single = ics(...PARIS, 'BEGIN:VEVENT', 'UID:s', 'DTSTAMP:20240101T000000Z', 'DTSTART;TZID=Europe/Paris:20240710T100000',
      'DURATION:PT30M', 'END:VEVENT');
    assert.equal(render(single, { expand: { start: at('20240710'), end: at('20240711') } }),
      ics('BEGIN:VEVENT', 'UID:s', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240710T080000Z', 'DURATION:PT30M', 'END:VEVENT'));
    assert.equal(render(single, { expand: { start: at('20240711'), end: at('20240712') } }), ics());
  });
  void it('keeps all-day instances as dates and reads floating times in the floating zone', () => {
    const weekly = ics('BEGIN:VEVENT', 'UID:w', 'DTSTAMP:20240101T000000Z', 'DTSTART;VALUE=DATE:20240101', 'DTEND;VALUE=DATE:20240102',
      'RRULE:FREQ=WEEKLY;COUNT=3', 'END:VEVENT');
    assert.equal(render(weekly, { expand: { start: at('20240108'), end: at('20240109') } }), ics(
      'BEGIN:VEVENT', 'UID:w', 'DTSTAMP:20240101T000000Z', 'DTSTART;VALUE=DATE:20240108', 'RECURRENCE-ID;VALUE=DATE:20240108',
      'DTEND;VALUE=DATE:20240109', 'END:VEVENT',
    ));
    const floating = ics('BEGIN:VEVENT', 'UID:f', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T100000', 'DTEND:20240110T103000', 'END:VEVENT');
    const newYork = resolveZone('America/New_York');
    assert.ok(newYork);
    assert.equal(render(floating, { expand: { start: at('20240110'), end: at('20240111') } }, newYork), ics(
      'BEGIN:VEVENT', 'UID:f', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T150000Z', 'DTEND:20240110T153000Z', 'END:VEVENT',
    ));
  });
  void it('applies comp selection to the expanded instances', () => {
    const request = {
      expand: { start: at('20240101'), end: at('20240102') },
      comp: sel('VCALENDAR', [], [sel('VTIMEZONE', 'all', 'all'), sel('VEVENT', ['DTSTART', 'RECURRENCE-ID', 'RRULE'], [])]),
    };
    assert.equal(render(standup, request), [
      'BEGIN:VCALENDAR', 'BEGIN:VEVENT', 'DTSTART:20240101T090000Z', 'RECURRENCE-ID:20240101T090000Z', 'END:VEVENT', 'END:VCALENDAR', '',
    ].join('\r\n'));
  });
});

void describe('renderCalendarData: limit-recurrence-set', () => {
  const master = ['BEGIN:VEVENT', 'UID:r', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240101T100000Z', 'DTEND:20240101T110000Z',
    'RRULE:FREQ=DAILY;COUNT=10', 'SUMMARY:Master', 'END:VEVENT'];
  const override = (rid: string, start: string, summary: string): string[] => [
    'BEGIN:VEVENT', 'UID:r', 'DTSTAMP:20240101T000000Z', `RECURRENCE-ID:${rid}`, `DTSTART:${start}`, 'DURATION:PT1H',
    `SUMMARY:${summary}`, 'END:VEVENT',
  ];
  const inPlace = override('20240102T100000Z', '20240102T100000Z', 'In place outside');
  const movedOut = override('20240105T100000Z', '20240120T100000Z', 'Moved out');
  const movedIn = override('20240108T100000Z', '20240103T120000Z', 'Moved in');
  const original = ics(...master, ...inPlace, ...movedOut, ...movedIn);
  void it('keeps the master and the overrides whose current or original time overlaps', () => {
    assert.equal(render(original, { limitRecurrenceSet: { start: at('20240103'), end: at('20240106') } }), ics(...master, ...movedOut, ...movedIn));
  });
  void it('keeps only the master when no override impacts the range', () => {
    assert.equal(render(original, { limitRecurrenceSet: { start: at('20240109'), end: at('20240110') } }), ics(...master));
  });
});

void describe('renderCalendarData: limit-freebusy-set', () => {
  void it('keeps only the FREEBUSY periods overlapping the range', () => {
    const original = ics('BEGIN:VFREEBUSY', 'UID:fb', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240101T000000Z', 'DTEND:20240201T000000Z',
      'FREEBUSY:20240110T100000Z/PT1H,20240115T100000Z/20240115T120000Z',
      'FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240112T090000Z/PT30M',
      'FREEBUSY;FBTYPE=FREE:20240111T000000Z/PT1H',
      'END:VFREEBUSY');
    assert.equal(render(original, { limitFreebusySet: { start: at('20240110', '103000'), end: at('20240112', '090000') } }), ics(
      'BEGIN:VFREEBUSY', 'UID:fb', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240101T000000Z', 'DTEND:20240201T000000Z',
      'FREEBUSY:20240110T100000Z/PT1H',
      'FREEBUSY;FBTYPE=FREE:20240111T000000Z/PT1H',
      'END:VFREEBUSY',
    ));
  });
});

void describe('expand beyond the instance cap', () => {
  void it('refuses to answer with part of the instances', () => {
    const original = ics('BEGIN:VEVENT', 'UID:dense', 'DTSTAMP:20240101T000000Z', 'DTSTART:19700101T000000Z', 'RRULE:FREQ=SECONDLY', 'END:VEVENT');
    const vcalendar = parseCalendar(original);
    const request: CalendarDataRequest = { expand: { start: at('20240110'), end: at('20240110', '000100') } };
    // A minute is 60 instances: all of them under a cap of 100, not 59 of them under a cap of 59.
    const full = renderCalendarData(original, vcalendar, request, { maxInstances: 100 });
    assert.equal(full.split('\r\n').filter((l) => l.startsWith('DTSTART:')).length, 60);
    assert.throws(() => renderCalendarData(original, vcalendar, request, { maxInstances: 59 }), ExpansionLimitExceeded);
  });
});
