// Tests for the recurrence engine: every RFC 4791 §9.9 row for VEVENT, VTODO and VJOURNAL with its
// boundaries, RRULE/RDATE/EXDATE, overrides, DST, floating times and hostile rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import { expandOccurrences, instanceEnd, toUtcMs } from './occurrences.ts';
import { parseCalendar } from './parse.ts';
import { resolveZone } from './timezones.ts';
import type { QueryOptions, TimeRange } from './types.ts';

const ms = (iso: string): number => Date.parse(iso);
const range = (start: string | null, end: string | null): TimeRange => ({ start: start === null ? null : ms(start), end: end === null ? null : ms(end) });

function calendar(...lines: string[]): ICAL.Component {
  return parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n'));
}

function component(type: string, ...lines: string[]): ICAL.Component {
  return calendar(`BEGIN:${type}`, 'UID:x', ...lines, `END:${type}`);
}

/** ISO start times of the instances of `vcalendar` that meet the range. */
function starts(vcalendar: ICAL.Component, r: TimeRange, options?: QueryOptions): string[] {
  return expandOccurrences(vcalendar, r, options).occurrences.map((o) => new Date(o.startMs).toISOString());
}

function matches(vcalendar: ICAL.Component, start: string | null, end: string | null, options?: QueryOptions): boolean {
  return expandOccurrences(vcalendar, range(start, end), options).occurrences.length > 0;
}

const berlin = resolveZone('Europe/Berlin') as ICAL.Timezone;
const newYork = resolveZone('America/New_York') as ICAL.Timezone;

void describe('RFC 4791 §9.9 VEVENT rows', () => {
  void it('DTEND: (start < DTEND) AND (end > DTSTART)', () => {
    const event = component('VEVENT', 'DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z');
    assert.equal(matches(event, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), false, 'range ending exactly at DTSTART');
    assert.equal(matches(event, '2024-01-10T11:00:00Z', '2024-01-10T12:00:00Z'), false, 'range starting exactly at DTEND');
    assert.equal(matches(event, '2024-01-10T10:59:59Z', '2024-01-10T11:00:00Z'), true);
    assert.equal(matches(event, '2024-01-10T09:00:00Z', '2024-01-10T10:00:01Z'), true);
    assert.equal(matches(event, null, '2024-01-10T10:00:00Z'), false);
    assert.equal(matches(event, '2024-01-10T11:00:00Z', null), false);
    assert.equal(matches(event, null, null), true);
  });

  void it('DTEND equal to DTSTART follows the DTEND row literally', () => {
    const event = component('VEVENT', 'DTSTART:20240110T100000Z', 'DTEND:20240110T100000Z');
    assert.equal(matches(event, '2024-01-10T10:00:00Z', '2024-01-10T11:00:00Z'), false);
    assert.equal(matches(event, '2024-01-10T09:00:00Z', '2024-01-10T11:00:00Z'), true);
  });

  void it('DURATION > 0: (start < DTSTART+DURATION) AND (end > DTSTART)', () => {
    const event = component('VEVENT', 'DTSTART:20240110T100000Z', 'DURATION:PT1H');
    assert.equal(matches(event, '2024-01-10T11:00:00Z', '2024-01-10T12:00:00Z'), false);
    assert.equal(matches(event, '2024-01-10T10:59:00Z', '2024-01-10T12:00:00Z'), true);
    assert.equal(matches(event, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), false);
    assert.deepEqual(instanceEnd(event.getFirstSubcomponent('vevent') as ICAL.Component, ICAL.Time.fromDateTimeString('2024-01-10T10:00:00Z')),
      { startMs: ms('2024-01-10T10:00:00Z'), endMs: ms('2024-01-10T11:00:00Z') });
  });

  void it('DURATION of 0 seconds: (start <= DTSTART) AND (end > DTSTART)', () => {
    const event = component('VEVENT', 'DTSTART:20240110T100000Z', 'DURATION:PT0S');
    assert.equal(matches(event, '2024-01-10T10:00:00Z', '2024-01-10T11:00:00Z'), true, 'range starting exactly at DTSTART');
    assert.equal(matches(event, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), false, 'range ending exactly at DTSTART');
  });

  void it('DATE-TIME without DTEND or DURATION is instantaneous', () => {
    const event = component('VEVENT', 'DTSTART:20240110T100000Z');
    assert.equal(matches(event, '2024-01-10T10:00:00Z', '2024-01-10T10:00:01Z'), true);
    assert.equal(matches(event, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), false);
    assert.equal(matches(event, '2024-01-10T10:00:01Z', '2024-01-10T11:00:00Z'), false);
    const [occurrence] = expandOccurrences(event, range(null, null)).occurrences;
    assert.equal(occurrence?.endMs, ms('2024-01-10T10:00:00Z'));
    assert.equal(occurrence?.recurrenceId, null);
  });

  void it('DATE without DTEND lasts one day: (start < DTSTART+P1D) AND (end > DTSTART)', () => {
    const event = component('VEVENT', 'DTSTART;VALUE=DATE:20240110');
    assert.equal(matches(event, '2024-01-10T23:59:00Z', '2024-01-11T00:00:00Z'), true);
    assert.equal(matches(event, '2024-01-11T00:00:00Z', '2024-01-12T00:00:00Z'), false);
    assert.equal(matches(event, '2024-01-09T00:00:00Z', '2024-01-10T00:00:00Z'), false);
  });

  void it('DATE with DTEND spans whole days', () => {
    const event = component('VEVENT', 'DTSTART;VALUE=DATE:20240110', 'DTEND;VALUE=DATE:20240112');
    assert.equal(matches(event, '2024-01-11T12:00:00Z', '2024-01-11T13:00:00Z'), true);
    assert.equal(matches(event, '2024-01-12T00:00:00Z', '2024-01-13T00:00:00Z'), false);
  });

  void it('reads DATE values in the floating zone: the same all-day event under two zones', () => {
    const event = component('VEVENT', 'DTSTART;VALUE=DATE:20240110');
    assert.equal(matches(event, '2024-01-10T23:00:00Z', '2024-01-10T23:30:00Z'), true);
    assert.equal(matches(event, '2024-01-10T23:00:00Z', '2024-01-10T23:30:00Z', { floatingZone: berlin }), false);
    assert.equal(matches(event, '2024-01-09T23:00:00Z', '2024-01-09T23:30:00Z', { floatingZone: berlin }), true);
  });
});

void describe('RFC 4791 §9.9 VTODO rows', () => {
  void it('DTSTART+DURATION: (start <= DTSTART+DURATION) AND ((end > DTSTART) OR (end >= DTSTART+DURATION))', () => {
    const todo = component('VTODO', 'DTSTART:20240110T100000Z', 'DURATION:PT1H');
    assert.equal(matches(todo, '2024-01-10T11:00:00Z', '2024-01-10T12:00:00Z'), true, 'range starting exactly at the end');
    assert.equal(matches(todo, '2024-01-10T11:00:01Z', '2024-01-10T12:00:00Z'), false);
    assert.equal(matches(todo, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), false);
    const zero = component('VTODO', 'DTSTART:20240110T100000Z', 'DURATION:PT0S');
    assert.equal(matches(zero, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), true, 'end >= DTSTART+DURATION');
  });

  void it('DTSTART+DUE: ((start < DUE) OR (start <= DTSTART)) AND ((end > DTSTART) OR (end >= DUE))', () => {
    const todo = component('VTODO', 'DTSTART:20240110T100000Z', 'DUE:20240110T110000Z');
    assert.equal(matches(todo, '2024-01-10T11:00:00Z', '2024-01-10T12:00:00Z'), false);
    assert.equal(matches(todo, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), false);
    assert.equal(matches(todo, '2024-01-10T10:30:00Z', '2024-01-10T10:45:00Z'), true);
    const same = component('VTODO', 'DTSTART:20240110T100000Z', 'DUE:20240110T100000Z');
    assert.equal(matches(same, '2024-01-10T10:00:00Z', '2024-01-10T11:00:00Z'), true);
    assert.equal(matches(same, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), true);
    assert.equal(matches(same, '2024-01-10T10:00:01Z', '2024-01-10T11:00:00Z'), false);
  });

  void it('DTSTART only: (start <= DTSTART) AND (end > DTSTART)', () => {
    const todo = component('VTODO', 'DTSTART:20240110T100000Z');
    assert.equal(matches(todo, '2024-01-10T10:00:00Z', '2024-01-10T11:00:00Z'), true);
    assert.equal(matches(todo, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), false);
  });

  void it('DUE only: (start < DUE) AND (end >= DUE)', () => {
    const todo = component('VTODO', 'DUE:20240110T110000Z');
    assert.equal(matches(todo, '2024-01-10T10:00:00Z', '2024-01-10T11:00:00Z'), true, 'range ending exactly at DUE');
    assert.equal(matches(todo, '2024-01-10T11:00:00Z', '2024-01-10T12:00:00Z'), false, 'range starting exactly at DUE');
  });

  void it('COMPLETED and CREATED: ((start <= CREATED) OR (start <= COMPLETED)) AND ((end >= CREATED) OR (end >= COMPLETED))', () => {
    const todo = component('VTODO', 'CREATED:20240110T080000Z', 'COMPLETED:20240110T120000Z');
    assert.equal(matches(todo, '2024-01-10T12:00:00Z', '2024-01-10T13:00:00Z'), true);
    assert.equal(matches(todo, '2024-01-10T12:00:01Z', '2024-01-10T13:00:00Z'), false);
    assert.equal(matches(todo, '2024-01-10T07:00:00Z', '2024-01-10T08:00:00Z'), true);
    assert.equal(matches(todo, '2024-01-10T06:00:00Z', '2024-01-10T07:59:59Z'), false);
  });

  void it('COMPLETED only: (start <= COMPLETED) AND (end >= COMPLETED)', () => {
    const todo = component('VTODO', 'COMPLETED:20240110T120000Z');
    assert.equal(matches(todo, '2024-01-10T12:00:00Z', '2024-01-10T13:00:00Z'), true);
    assert.equal(matches(todo, '2024-01-10T11:00:00Z', '2024-01-10T12:00:00Z'), true);
    assert.equal(matches(todo, '2024-01-10T12:00:01Z', '2024-01-10T13:00:00Z'), false);
  });

  void it('CREATED only: (end > CREATED)', () => {
    const todo = component('VTODO', 'CREATED:20240110T080000Z');
    assert.equal(matches(todo, '2024-01-10T07:00:00Z', '2024-01-10T08:00:00Z'), false);
    assert.equal(matches(todo, '2024-01-10T07:00:00Z', '2024-01-10T08:00:01Z'), true);
    assert.equal(matches(todo, '2030-01-01T00:00:00Z', '2030-01-02T00:00:00Z'), true);
  });

  void it('none of them: TRUE', () => {
    const todo = component('VTODO', 'SUMMARY:whenever');
    assert.equal(matches(todo, '1990-01-01T00:00:00Z', '1990-01-02T00:00:00Z'), true);
    assert.equal(matches(todo, null, null), true);
    const [occurrence] = expandOccurrences(todo, range(null, null)).occurrences;
    assert.equal(occurrence?.startMs, -Infinity);
    assert.equal(occurrence?.endMs, Infinity);
  });
});

void describe('RFC 4791 §9.9 VJOURNAL rows', () => {
  void it('DATE-TIME is an instant, DATE a day, no DTSTART never matches', () => {
    const instant = component('VJOURNAL', 'DTSTART:20240110T100000Z');
    assert.equal(matches(instant, '2024-01-10T10:00:00Z', '2024-01-10T11:00:00Z'), true);
    assert.equal(matches(instant, '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), false);
    const day = component('VJOURNAL', 'DTSTART;VALUE=DATE:20240110');
    assert.equal(matches(day, '2024-01-10T23:00:00Z', '2024-01-11T01:00:00Z'), true);
    assert.equal(matches(day, '2024-01-11T00:00:00Z', '2024-01-11T01:00:00Z'), false);
    assert.equal(matches(component('VJOURNAL', 'SUMMARY:undated'), null, null), false);
  });
});

void describe('recurrence', () => {
  void it('RRULE with COUNT', () => {
    const event = component('VEVENT', 'DTSTART:20240101T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=3');
    const result = expandOccurrences(event, range('2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z'));
    assert.deepEqual(result.occurrences.map((o) => new Date(o.startMs).toISOString()),
      ['2024-01-01T10:00:00.000Z', '2024-01-02T10:00:00.000Z', '2024-01-03T10:00:00.000Z']);
    assert.deepEqual(result.occurrences.map((o) => o.recurrenceId?.toICALString()), ['20240101T100000Z', '20240102T100000Z', '20240103T100000Z']);
    assert.equal(result.truncated, false);
  });

  void it('RRULE with UNTIL includes an instance exactly at UNTIL', () => {
    const event = component('VEVENT', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=WEEKLY;UNTIL=20240122T100000Z');
    assert.deepEqual(starts(event, range(null, null)),
      ['2024-01-01T10:00:00.000Z', '2024-01-08T10:00:00.000Z', '2024-01-15T10:00:00.000Z', '2024-01-22T10:00:00.000Z']);
  });

  void it('EXDATE removes instances (COUNT still counts them)', () => {
    const event = component('VEVENT', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY;COUNT=4', 'EXDATE:20240102T100000Z,20240103T100000Z');
    assert.deepEqual(starts(event, range(null, null)), ['2024-01-01T10:00:00.000Z', '2024-01-04T10:00:00.000Z']);
    const allDay = component('VEVENT', 'DTSTART;VALUE=DATE:20240101', 'RRULE:FREQ=DAILY;COUNT=3', 'EXDATE;VALUE=DATE:20240102');
    assert.deepEqual(starts(allDay, range(null, null)), ['2024-01-01T00:00:00.000Z', '2024-01-03T00:00:00.000Z']);
  });

  void it('RDATE with DATE-TIME and PERIOD values; a PERIOD gives its own end', () => {
    const event = component('VEVENT', 'DTSTART:20240101T100000Z', 'DURATION:PT1H',
      'RDATE:20240201T100000Z', 'RDATE;VALUE=PERIOD:20240301T150000Z/20240301T180000Z,20240401T150000Z/PT30M');
    const result = expandOccurrences(event, range(null, null));
    assert.deepEqual(result.occurrences.map((o) => [new Date(o.startMs).toISOString(), new Date(o.endMs).toISOString()]), [
      ['2024-01-01T10:00:00.000Z', '2024-01-01T11:00:00.000Z'],
      ['2024-02-01T10:00:00.000Z', '2024-02-01T11:00:00.000Z'],
      ['2024-03-01T15:00:00.000Z', '2024-03-01T18:00:00.000Z'],
      ['2024-04-01T15:00:00.000Z', '2024-04-01T15:30:00.000Z'],
    ]);
    assert.equal(matches(event, '2024-03-01T17:30:00Z', '2024-03-01T17:45:00Z'), true);
    assert.equal(matches(event, '2024-04-01T15:30:00Z', '2024-04-01T16:00:00Z'), false);
  });

  void it('two RRULEs are merged in start order, a start produced twice counts once', () => {
    const event = component('VEVENT', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY;INTERVAL=2;COUNT=3', 'RRULE:FREQ=DAILY;INTERVAL=3;COUNT=3');
    assert.deepEqual(starts(event, range(null, null)),
      ['2024-01-01T10:00:00.000Z', '2024-01-03T10:00:00.000Z', '2024-01-04T10:00:00.000Z', '2024-01-05T10:00:00.000Z', '2024-01-07T10:00:00.000Z']);
  });

  const series = [
    'BEGIN:VEVENT', 'UID:s', 'DTSTART:20240101T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=5', 'SUMMARY:master', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID:20240103T100000Z', 'DTSTART:20240120T100000Z', 'DURATION:PT1H', 'SUMMARY:moved', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID:20240102T100000Z', 'DTSTART:20240102T100000Z', 'DURATION:PT1H', 'SUMMARY:edited', 'END:VEVENT',
  ];

  void it('an override moved into the range matches; its original slot does not', () => {
    const vcalendar = calendar(...series);
    const moved = expandOccurrences(vcalendar, range('2024-01-20T00:00:00Z', '2024-01-21T00:00:00Z')).occurrences;
    assert.equal(moved.length, 1);
    assert.equal(moved[0]?.component.getFirstPropertyValue('summary'), 'moved');
    assert.equal(moved[0]?.recurrenceId?.toICALString(), '20240103T100000Z');
    assert.equal(moved[0]?.start.toICALString(), '20240120T100000Z');
    assert.deepEqual(starts(vcalendar, range('2024-01-03T00:00:00Z', '2024-01-04T00:00:00Z')), [], 'moved out of its slot');
  });

  void it('an override of an instance the rule produces replaces that instance', () => {
    const vcalendar = calendar(...series);
    const all = expandOccurrences(vcalendar, range(null, null)).occurrences;
    assert.deepEqual(all.map((o) => `${o.start.toICALString()} ${String(o.component.getFirstPropertyValue('summary'))}`), [
      '20240101T100000Z master', '20240102T100000Z edited', '20240104T100000Z master', '20240105T100000Z master', '20240120T100000Z moved',
    ]);
  });

  void it('overrides without a master stand for themselves', () => {
    const vcalendar = calendar('BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID:20240103T100000Z', 'DTSTART:20240103T120000Z', 'END:VEVENT');
    const [occurrence] = expandOccurrences(vcalendar, range(null, null)).occurrences;
    assert.equal(occurrence?.startMs, ms('2024-01-03T12:00:00Z'));
    assert.equal(occurrence?.recurrenceId?.toICALString(), '20240103T100000Z');
  });

  void it('stops at the end of the range without truncating an infinite rule', () => {
    const event = component('VEVENT', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY');
    const result = expandOccurrences(event, range('2024-01-05T00:00:00Z', '2024-01-07T00:00:00Z'));
    assert.deepEqual(result.occurrences.map((o) => o.start.toICALString()), ['20240105T100000Z', '20240106T100000Z']);
    assert.equal(result.truncated, false);
  });

  void it('an unbounded end with an infinite rule is truncated at the cap', () => {
    const event = component('VEVENT', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY');
    const result = expandOccurrences(event, range('2024-01-01T00:00:00Z', null), { maxInstances: 50 });
    assert.equal(result.truncated, true);
    assert.equal(result.occurrences.length, 50);
    assert.equal(result.occurrences.at(-1)?.start.toICALString(), '20240219T100000Z');
  });
});

void describe('starting late for a late range', () => {
  void it('gives exactly the instances a full expansion from DTSTART gives', () => {
    const cases: string[][] = [
      ['DTSTART:20000101T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;INTERVAL=3'],
      ['DTSTART;TZID=Europe/Berlin:20000103T090000', 'DTEND;TZID=Europe/Berlin:20000103T100000', 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR'],
      ['DTSTART;TZID=America/New_York:20000104T090000', 'RRULE:FREQ=WEEKLY;BYDAY=MO,WE'],
      ['DTSTART:20000101T000000', 'DURATION:PT30M', 'RRULE:FREQ=HOURLY;INTERVAL=5;BYHOUR=0,5,10,15,20'],
      ['DTSTART;VALUE=DATE:20000101', 'RRULE:FREQ=DAILY;BYMONTH=3;BYMONTHDAY=1,15,31'],
      ['DTSTART;TZID=Europe/Berlin:20000101T235900', 'DURATION:P2D', 'RRULE:FREQ=DAILY;INTERVAL=7;UNTIL=20300320T225900Z'],
      ['DTSTART:20291231T000000Z', 'RRULE:FREQ=MINUTELY;INTERVAL=7;BYHOUR=12;BYMINUTE=0,7,14'],
      ['DTSTART;TZID=Europe/Berlin:20000131T090000', 'DURATION:PT1H', 'RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1'],
      ['DTSTART:20000315T100000Z', 'RRULE:FREQ=MONTHLY;INTERVAL=5'],
      ['DTSTART:20000105T080000Z', 'DURATION:P3D', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=-1,15;BYHOUR=8,20'],
      ['DTSTART:20000310T080000Z', 'RRULE:FREQ=YEARLY;INTERVAL=2'],
      ['DTSTART;TZID=America/New_York:20000105T080000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU'],
      ['DTSTART:20000105T080000Z', 'RRULE:FREQ=YEARLY;BYWEEKNO=10,11;BYDAY=TU'],
      ['DTSTART;VALUE=DATE:20000301', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1,31;BYSETPOS=2'],
    ];
    const window = range('2030-03-01T00:00:00Z', '2030-04-01T00:00:00Z');
    for (const lines of cases) {
      const event = component('VEVENT', ...lines);
      const late = expandOccurrences(event, window, { maxInstances: 200_000, timeBudgetMs: 60_000 });
      const full = expandOccurrences(event, range(null, '2030-04-01T00:00:00Z'), { maxInstances: 200_000, timeBudgetMs: 60_000 });
      const expected = full.occurrences.filter((o) => o.endMs > ms('2030-03-01T00:00:00Z') || (o.endMs === o.startMs && o.startMs >= ms('2030-03-01T00:00:00Z')));
      assert.equal(full.truncated, false, lines.join(' '));
      assert.equal(late.truncated, false, lines.join(' '));
      assert.ok(expected.length > 0, lines.join(' '));
      assert.deepEqual(late.occurrences.map((o) => [o.startMs, o.endMs]), expected.map((o) => [o.startMs, o.endMs]), lines.join(' '));
    }
  });

  void it('makes a monthly event since 1980 cheap to query in 2026 (no cap reached)', () => {
    const event = component('VEVENT', 'DTSTART;TZID=Europe/Berlin:19800131T090000', 'DURATION:PT1H', 'RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1');
    const result = expandOccurrences(event, range('2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z'), { maxInstances: 60 });
    assert.equal(result.truncated, false);
    assert.deepEqual(result.occurrences.map((o) => o.start.toICALString()), ['20260130T090000', '20260227T090000']);
  });

  void it('makes a daily event since 1980 cheap to query in 2026 (no cap reached)', () => {
    const event = component('VEVENT', 'DTSTART;TZID=Europe/Berlin:19800101T090000', 'DURATION:PT1H', 'RRULE:FREQ=DAILY');
    const result = expandOccurrences(event, range('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'), { maxInstances: 100 });
    assert.equal(result.truncated, false);
    assert.equal(result.occurrences.length, 31);
    assert.equal(result.occurrences[0]?.start.toICALString(), '20260101T090000');
  });
});

void describe('time zones and floating times', () => {
  void it('keeps the wall-clock time in Europe/Berlin across the March and October DST changes', () => {
    const spring = component('VEVENT', 'DTSTART;TZID=Europe/Berlin:20240325T090000', 'DTEND;TZID=Europe/Berlin:20240325T100000', 'RRULE:FREQ=WEEKLY;COUNT=2');
    const occurrences = expandOccurrences(spring, range(null, null)).occurrences;
    assert.deepEqual(occurrences.map((o) => [new Date(o.startMs).toISOString(), new Date(o.endMs).toISOString()]), [
      ['2024-03-25T08:00:00.000Z', '2024-03-25T09:00:00.000Z'],
      ['2024-04-01T07:00:00.000Z', '2024-04-01T08:00:00.000Z'],
    ]);
    const autumn = component('VEVENT', 'DTSTART;TZID=Europe/Berlin:20241021T090000', 'RRULE:FREQ=WEEKLY;COUNT=2');
    assert.deepEqual(starts(autumn, range(null, null)), ['2024-10-21T07:00:00.000Z', '2024-10-28T08:00:00.000Z']);
  });

  void it('keeps the wall-clock time in America/New_York; a nominal day across the change lasts 23 hours', () => {
    const event = component('VEVENT', 'DTSTART;TZID=America/New_York:20240309T120000', 'DURATION:P1D', 'RRULE:FREQ=DAILY;COUNT=2');
    const occurrences = expandOccurrences(event, range(null, null)).occurrences;
    assert.deepEqual(occurrences.map((o) => [new Date(o.startMs).toISOString(), new Date(o.endMs).toISOString()]), [
      ['2024-03-09T17:00:00.000Z', '2024-03-10T16:00:00.000Z'],
      ['2024-03-10T16:00:00.000Z', '2024-03-11T16:00:00.000Z'],
    ]);
  });

  void it('reads floating times in the floating zone, two zones giving two answers', () => {
    const event = component('VEVENT', 'DTSTART:20240110T090000', 'DTEND:20240110T100000', 'RRULE:FREQ=DAILY;COUNT=2');
    assert.deepEqual(starts(event, range(null, null)), ['2024-01-10T09:00:00.000Z', '2024-01-11T09:00:00.000Z']);
    assert.deepEqual(starts(event, range(null, null), { floatingZone: newYork }), ['2024-01-10T14:00:00.000Z', '2024-01-11T14:00:00.000Z']);
    assert.equal(matches(event, '2024-01-10T09:30:00Z', '2024-01-10T09:45:00Z'), true);
    assert.equal(matches(event, '2024-01-10T09:30:00Z', '2024-01-10T09:45:00Z', { floatingZone: newYork }), false);
  });

  void it('toUtcMs: UTC, zoned, floating and DATE values', () => {
    assert.equal(toUtcMs(ICAL.Time.fromDateTimeString('2024-07-01T12:00:00Z')), ms('2024-07-01T12:00:00Z'));
    const zoned = ICAL.Time.fromData({ year: 2024, month: 7, day: 1, hour: 12 }, berlin);
    assert.equal(toUtcMs(zoned, newYork), ms('2024-07-01T10:00:00Z'), 'the floating zone does not apply to a zoned time');
    const floating = ICAL.Time.fromDateTimeString('2024-07-01T12:00:00');
    assert.equal(toUtcMs(floating), ms('2024-07-01T12:00:00Z'));
    assert.equal(toUtcMs(floating, newYork), ms('2024-07-01T16:00:00Z'));
    assert.equal(toUtcMs(ICAL.Time.fromDateString('2024-07-01'), berlin), ms('2024-06-30T22:00:00Z'));
  });

  void it('instanceEnd: whole days for DATE pairs in the floating zone, the same exact length otherwise', () => {
    const vcalendar = component('VEVENT', 'DTSTART;VALUE=DATE:20240330', 'DTEND;VALUE=DATE:20240401');
    const event = vcalendar.getFirstSubcomponent('vevent') as ICAL.Component;
    assert.deepEqual(instanceEnd(event, ICAL.Time.fromDateString('2024-03-30'), { floatingZone: berlin }),
      { startMs: ms('2024-03-29T23:00:00Z'), endMs: ms('2024-03-31T22:00:00Z') });
  });
});

void describe('hostile rules', () => {
  void it('FREQ=SECONDLY from 1970: exact in a short range, truncated where the range holds more than the cap', () => {
    const event = component('VEVENT', 'DTSTART:19700101T000000Z', 'RRULE:FREQ=SECONDLY');
    const short = expandOccurrences(event, range('2024-01-01T00:00:00Z', '2024-01-01T00:00:10Z'));
    assert.equal(short.truncated, false);
    assert.deepEqual(short.occurrences.map((o) => new Date(o.startMs).toISOString()), Array.from({ length: 10 }, (_, n) => `2024-01-01T00:00:0${n}.000Z`));
    // A day holds 86,400 instances: more than the cap allows.
    const day = expandOccurrences(event, range('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'), { maxInstances: 1000 });
    assert.equal(day.truncated, true);
    assert.equal(day.occurrences.length, 1000);
    assert.equal(new Date(day.occurrences[0]?.startMs ?? 0).toISOString(), '2024-01-01T00:00:00.000Z');
  });

  void it('rules computed by arithmetic keep UTC starts in UTC, whatever the floating zone', () => {
    for (const rule of ['FREQ=SECONDLY;INTERVAL=30', 'FREQ=DAILY;COUNT=3']) {
      const event = component('VEVENT', 'DTSTART:20240101T100000Z', `RRULE:${rule}`);
      const result = expandOccurrences(event, range('2024-01-02T10:00:00Z', '2024-01-02T10:00:31Z'), { floatingZone: newYork });
      assert.deepEqual(result.occurrences.map((o) => new Date(o.startMs).toISOString()).slice(0, 1), ['2024-01-02T10:00:00.000Z'], rule);
      assert.equal(result.occurrences[0]?.recurrenceId?.toICALString(), '20240102T100000Z', rule);
    }
  });

  void it('the time budget stops any expansion, truncated', () => {
    const event = component('VEVENT', 'DTSTART:19700101T000000Z', 'RRULE:FREQ=SECONDLY');
    const result = expandOccurrences(event, range('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'), { maxInstances: 1_000_000, timeBudgetMs: 0 });
    assert.equal(result.truncated, true);
    assert.ok(result.occurrences.length < 86_400);
  });

  void it('an impossible rule ical.js would search forever is cut off by the work budget', () => {
    const event = component('VEVENT', 'DTSTART:20240101T000000Z', 'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30');
    const result = expandOccurrences(event, range('2024-01-02T00:00:00Z', '2025-01-01T00:00:00Z'), { maxInstances: 100 });
    assert.equal(result.truncated, true);
    assert.deepEqual(result.occurrences, []);
  });

  void it('dates ical.js would invent for an impossible rule (30 February → 2 March) are dropped', () => {
    const event = component('VEVENT', 'DTSTART:20240101T000000Z', 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30');
    const result = expandOccurrences(event, range('2024-01-01T00:00:00Z', '2030-01-01T00:00:00Z'), { maxInstances: 100 });
    assert.deepEqual(result.occurrences.map((o) => o.start.toICALString()), ['20240101T000000Z']);
  });
});
