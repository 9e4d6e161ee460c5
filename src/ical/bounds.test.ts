// Tests for the index bounds: recurrence, overrides, alarms, floating slack and the unbounded cases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extentsMeet, instanceSummary, objectBounds } from './bounds.ts';
import { resolveZone } from './timezones.ts';
import { parseCalendar } from './parse.ts';

const ms = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

function bounds(lines: string[], maxInstances?: number): { firstStart: number | null; lastEnd: number | null } {
  const vcalendar = parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', ...lines, 'END:VCALENDAR', ''].join('\r\n'));
  return objectBounds(vcalendar, maxInstances === undefined ? {} : { maxInstances });
}

const vevent = (...lines: string[]): string[] => ['BEGIN:VEVENT', 'UID:a', ...lines, 'END:VEVENT'];
const vtodo = (...lines: string[]): string[] => ['BEGIN:VTODO', 'UID:a', ...lines, 'END:VTODO'];

void describe('objectBounds', () => {
  void it('a single event: its start and end', () => {
    assert.deepEqual(bounds(vevent('DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z')),
      { firstStart: ms('2024-01-10T10:00:00Z'), lastEnd: ms('2024-01-10T11:00:00Z') });
  });

  void it('an infinite rule has no end', () => {
    assert.deepEqual(bounds(vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY')),
      { firstStart: ms('2024-01-10T10:00:00Z'), lastEnd: null });
  });

  void it('a COUNT rule ends with its last instance, unless counting exceeds maxInstances', () => {
    const lines = vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=20');
    assert.deepEqual(bounds(lines), { firstStart: ms('2024-01-10T10:00:00Z'), lastEnd: ms('2024-01-29T11:00:00Z') });
    assert.deepEqual(bounds(lines, 10), { firstStart: ms('2024-01-10T10:00:00Z'), lastEnd: null });
  });

  void it('an UNTIL rule ends by UNTIL plus the instance length and DST slack', () => {
    assert.deepEqual(bounds(vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;UNTIL=20240120T100000Z')),
      { firstStart: ms('2024-01-10T10:00:00Z'), lastEnd: ms('2024-01-20T11:00:00Z') + 3 * HOUR });
  });

  void it('RDATEs before DTSTART and overrides moved later widen the bounds', () => {
    const lines = [
      ...vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=2', 'RDATE;VALUE=PERIOD:20240105T100000Z/20240105T120000Z'),
      ...vevent('RECURRENCE-ID:20240111T100000Z', 'DTSTART:20240301T100000Z', 'DTEND:20240301T130000Z'),
    ];
    assert.deepEqual(bounds(lines), { firstStart: ms('2024-01-05T10:00:00Z'), lastEnd: ms('2024-03-01T13:00:00Z') });
  });

  void it('floating and all-day values get 14 hours of slack on both sides', () => {
    assert.deepEqual(bounds(vevent('DTSTART:20240110T100000', 'DTEND:20240110T110000')),
      { firstStart: ms('2024-01-10T10:00:00Z') - 14 * HOUR, lastEnd: ms('2024-01-10T11:00:00Z') + 14 * HOUR });
    assert.deepEqual(bounds(vevent('DTSTART;VALUE=DATE:20240110')),
      { firstStart: ms('2024-01-10T00:00:00Z') - 14 * HOUR, lastEnd: ms('2024-01-11T00:00:00Z') + 14 * HOUR });
  });

  void it('alarms before the start, after the end and at absolute times count', () => {
    const before = vevent('DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT30M', 'END:VALARM', 'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-P1D', 'END:VALARM');
    assert.deepEqual(bounds(before), { firstStart: ms('2024-01-09T10:00:00Z'), lastEnd: ms('2024-01-10T11:00:00Z') });
    const after = vevent('DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER;RELATED=END:PT10M', 'REPEAT:2', 'DURATION:PT5M', 'END:VALARM');
    assert.deepEqual(bounds(after), { firstStart: ms('2024-01-10T10:00:00Z'), lastEnd: ms('2024-01-10T11:20:00Z') });
    const absolute = vevent('DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER;VALUE=DATE-TIME:20240101T080000Z', 'END:VALARM');
    assert.deepEqual(bounds(absolute), { firstStart: ms('2024-01-01T08:00:00Z'), lastEnd: ms('2024-01-10T11:00:00Z') });
  });

  void it('VTODO rows: no dates → unbounded, CREATED only → open end, DUE only → that instant', () => {
    assert.deepEqual(bounds(vtodo('SUMMARY:x')), { firstStart: null, lastEnd: null });
    assert.deepEqual(bounds(vtodo('CREATED:20240110T080000Z')), { firstStart: ms('2024-01-10T08:00:00Z'), lastEnd: null });
    assert.deepEqual(bounds(vtodo('DUE:20240110T080000Z')), { firstStart: ms('2024-01-10T08:00:00Z'), lastEnd: ms('2024-01-10T08:00:00Z') });
    assert.deepEqual(bounds(vtodo('DTSTART:20240110T080000Z', 'DUE:20240111T080000Z')),
      { firstStart: ms('2024-01-10T08:00:00Z'), lastEnd: ms('2024-01-11T08:00:00Z') });
  });

  void it('VJOURNAL without DTSTART and VFREEBUSY periods', () => {
    assert.deepEqual(bounds(['BEGIN:VJOURNAL', 'UID:j', 'SUMMARY:x', 'END:VJOURNAL']), { firstStart: null, lastEnd: null });
    assert.deepEqual(bounds(['BEGIN:VFREEBUSY', 'UID:f', 'FREEBUSY:20240110T100000Z/20240110T110000Z,20240112T100000Z/PT2H', 'END:VFREEBUSY']),
      { firstStart: ms('2024-01-10T10:00:00Z'), lastEnd: ms('2024-01-12T12:00:00Z') });
  });
});

function extents(lines: string[], maxInstances?: number, zone?: string): number[] | null {
  const vcalendar = parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', ...lines, 'END:VCALENDAR', ''].join('\r\n'));
  const result = instanceSummary(vcalendar, maxInstances, zone === undefined ? undefined : resolveZone(zone) ?? undefined);
  return result === null ? null : [...result.extents];
}

void describe('instanceSummary', () => {
  void it('one interval per instance of a bounded rule, EXDATEs left out', () => {
    assert.deepEqual(extents(vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY;COUNT=3', 'EXDATE:20240117T100000Z')), [
      ms('2024-01-10T10:00:00Z'), ms('2024-01-10T11:00:00Z'),
      ms('2024-01-24T10:00:00Z'), ms('2024-01-24T11:00:00Z'),
    ]);
  });

  void it('an override stands where it moved its instance, not where the rule put it', () => {
    const lines = [
      ...vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY;COUNT=2'),
      ...vevent('RECURRENCE-ID:20240117T100000Z', 'DTSTART:20240301T080000Z', 'DTEND:20240301T090000Z'),
    ];
    assert.deepEqual(extents(lines), [ms('2024-01-10T10:00:00Z'), ms('2024-01-10T11:00:00Z'), ms('2024-03-01T08:00:00Z'), ms('2024-03-01T09:00:00Z')]);
  });

  void it('floating and all-day instances are read in the zone given, UTC by default, and say so', () => {
    const lines = vevent('DTSTART;VALUE=DATE:20240110', 'RRULE:FREQ=DAILY;COUNT=1;INTERVAL=2');
    assert.deepEqual(extents(lines), [ms('2024-01-10T00:00:00Z'), ms('2024-01-11T00:00:00Z')]);
    assert.deepEqual(extents(lines, undefined, 'Asia/Tokyo'), [ms('2024-01-09T15:00:00Z'), ms('2024-01-10T15:00:00Z')]);
    const vcalendar = parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', ...lines, 'END:VCALENDAR', ''].join('\r\n'));
    assert.equal(instanceSummary(vcalendar)?.floating, true);
    const utc = parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', ...vevent('DTSTART:20240110T100000Z'), 'END:VCALENDAR', ''].join('\r\n'));
    assert.equal(instanceSummary(utc)?.floating, false);
  });

  void it('null when the rule is unbounded or the object has more instances than asked', () => {
    assert.equal(extents(vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY')), null);
    assert.equal(extents(vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=10'), 9), null);
    assert.equal(extents(vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=9'), 9)?.length, 18);
    assert.equal(extents(vevent('DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z'))?.length, 2, 'one instance for an object that does not recur');
    // 30 February never comes: the set is DTSTART alone (RFC 5545 §3.8.5.3), found without running on.
    assert.deepEqual(extents(vevent('DTSTART:20240110T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3')), [ms('2024-01-10T10:00:00Z'), ms('2024-01-10T11:00:00Z')]);
  });

  void it('extentsMeet compares closed intervals, as the index bounds do', () => {
    const weekly = new Float64Array([100, 200, 800, 900]);
    assert.equal(extentsMeet(weekly, { start: 300, end: 700 }), false, 'between two instances');
    assert.equal(extentsMeet(weekly, { start: 200, end: 250 }), true, 'touching an end');
    assert.equal(extentsMeet(weekly, { start: 750, end: 800 }), true, 'touching a start');
    assert.equal(extentsMeet(weekly, { start: null, end: 50 }), false);
    assert.equal(extentsMeet(weekly, { start: 850, end: null }), true);
  });
});
