// Tests for the CalDAV object rules: each refusal, its precondition and message, and the metadata.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { expandOccurrences } from './occurrences.ts';
import { validateCalendarObject } from './validate.ts';
import { InvalidCalendarObject } from './types.ts';
import type { CalendarPrecondition } from './types.ts';

const ms = (iso: string): number => Date.parse(iso);

function text(...lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n');
}

function event(...lines: string[]): string {
  return text('BEGIN:VEVENT', 'UID:e1', 'DTSTAMP:20240101T000000Z', ...lines, 'END:VEVENT');
}

function refused(body: string, precondition: CalendarPrecondition, message: string | RegExp, options?: Parameters<typeof validateCalendarObject>[1]): void {
  assert.throws(() => validateCalendarObject(body, options), (error: unknown) => {
    assert.ok(error instanceof InvalidCalendarObject, `not an InvalidCalendarObject: ${String(error)}`);
    assert.equal(error.precondition, precondition);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

const outlook1 = readFileSync(new URL('../../test/fixtures/corpus/ical/ical4j__outlook1.txt', import.meta.url), 'utf8');

void describe('validateCalendarObject accepts', () => {
  void it('a plain event and reports its UID, type and bounds', () => {
    const { vcalendar, info } = validateCalendarObject(event('DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z'));
    assert.equal(vcalendar.name, 'vcalendar');
    assert.deepEqual(info, { uid: 'e1', componentType: 'VEVENT', firstStart: ms('2024-01-10T10:00:00Z'), lastEnd: ms('2024-01-10T11:00:00Z'), mayBeBusy: true });
  });

  void it('a missing PRODID and DTSTAMP, and DTEND equal to DTSTART', () => {
    const body = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'UID:a', 'DTSTART:20240110T100000Z', 'DTEND:20240110T100000Z', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n');
    assert.equal(validateCalendarObject(body).info.uid, 'a');
  });

  void it('a master with overrides, a VTODO without dates, X- components', () => {
    const series = text('BEGIN:VEVENT', 'UID:s', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY;COUNT=3', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID:20240102T100000Z', 'DTSTART:20240102T120000Z', 'END:VEVENT',
      'BEGIN:X-THING', 'X-A:b', 'END:X-THING');
    assert.equal(validateCalendarObject(series).info.componentType, 'VEVENT');
    const todo = text('BEGIN:VTODO', 'UID:t', 'SUMMARY:someday', 'END:VTODO');
    assert.deepEqual(validateCalendarObject(todo).info, { uid: 't', componentType: 'VTODO', firstStart: null, lastEnd: null, mayBeBusy: false });
  });

  void it('the Windows TZID "Pacific Standard Time" of outlook1.txt, with or without its VTIMEZONE, at the right offset', () => {
    const stored = outlook1.replace('METHOD:REQUEST\n', '');
    const bare = stored.replace(/BEGIN:VTIMEZONE[\s\S]*END:VTIMEZONE\n/, '');
    assert.equal(bare.includes('VTIMEZONE'), false);
    for (const body of [stored, bare]) {
      const { vcalendar, info } = validateCalendarObject(body);
      const [occurrence] = expandOccurrences(vcalendar, { start: null, end: null }).occurrences;
      assert.equal(occurrence?.startMs, ms('2014-01-31T21:30:00Z'), 'PST is UTC-8 in January');
      assert.equal(occurrence?.endMs, ms('2014-01-31T22:30:00Z'));
      assert.equal(info.firstStart, ms('2014-01-31T21:15:00Z'), 'the -PT15M alarm comes first');
      assert.equal(info.lastEnd, ms('2014-01-31T22:30:00Z'));
    }
  });
});

void describe('validateCalendarObject refuses', () => {
  void it('a METHOD property', () => {
    refused(event('DTSTART:20240110T100000Z').replace('VERSION:2.0', 'VERSION:2.0\r\nMETHOD:PUBLISH'), 'valid-calendar-object-resource',
      'METHOD:PUBLISH is an iTIP method; a stored calendar object must not have a METHOD property (RFC 4791 §4.1).');
  });

  void it('a missing or wrong VERSION', () => {
    refused(event('DTSTART:20240110T100000Z').replace('VERSION:2.0\r\n', ''), 'valid-calendar-data',
      'VCALENDAR has no VERSION property; RFC 5545 §3.7.4 requires VERSION:2.0.');
    refused(event('DTSTART:20240110T100000Z').replace('VERSION:2.0', 'VERSION:1.0'), 'valid-calendar-data', 'VERSION must be 2.0 (RFC 5545 §3.7.4), not "1.0".');
  });

  void it('two UIDs', () => {
    refused(text('BEGIN:VEVENT', 'UID:a', 'DTSTART:20240110T100000Z', 'END:VEVENT', 'BEGIN:VEVENT', 'UID:b', 'DTSTART:20240111T100000Z', 'END:VEVENT'),
      'valid-calendar-object-resource', 'All components of a calendar object resource share one UID; found "a" and "b" (RFC 4791 §4.1).');
  });

  void it('VEVENT mixed with VTODO', () => {
    refused(text('BEGIN:VEVENT', 'UID:a', 'DTSTART:20240110T100000Z', 'END:VEVENT', 'BEGIN:VTODO', 'UID:a', 'END:VTODO'),
      'valid-calendar-object-resource', 'A calendar object resource holds one component type; this one mixes VEVENT and VTODO (RFC 4791 §4.1).');
  });

  void it('a missing or empty UID, and no component at all', () => {
    refused(text('BEGIN:VEVENT', 'DTSTART:20240110T100000Z', 'END:VEVENT'), 'valid-calendar-object-resource', 'VEVENT has no UID.');
    refused(text('BEGIN:VEVENT', 'UID:', 'DTSTART:20240110T100000Z', 'END:VEVENT'), 'valid-calendar-object-resource', 'VEVENT has no UID.');
    refused(text('BEGIN:X-THING', 'END:X-THING'), 'valid-calendar-object-resource',
      'The object has no VEVENT, VTODO, VJOURNAL, VFREEBUSY or VAVAILABILITY component.');
  });

  void it('a component type the calendar does not support', () => {
    refused(event('DTSTART:20240110T100000Z'), 'supported-calendar-component',
      'This calendar does not accept VEVENT components (it accepts VTODO).', { supportedComponents: ['VTODO'] });
    assert.equal(validateCalendarObject(event('DTSTART:20240110T100000Z'), { supportedComponents: ['vevent', 'vtodo'] }).info.uid, 'e1');
  });

  void it('two masters, or two overrides of one instance', () => {
    const master = ['BEGIN:VEVENT', 'UID:s', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY', 'END:VEVENT'];
    const override = ['BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID:20240102T100000Z', 'DTSTART:20240102T120000Z', 'END:VEVENT'];
    refused(text(...master, ...master), 'valid-calendar-object-resource',
      'There are 2 VEVENT components without RECURRENCE-ID with UID "s"; only one may be the master.');
    refused(text(...master, ...override, ...override), 'valid-calendar-object-resource', 'Two VEVENT components have RECURRENCE-ID 20240102T100000Z.');
  });

  void it('an unknown TZID without a VTIMEZONE', () => {
    refused(event('DTSTART;TZID=Foo/Bar:20240110T100000'), 'valid-calendar-data',
      'TZID "Foo/Bar" (on DTSTART) is not a known time zone and the object has no VTIMEZONE for it.');
  });

  void it('an unusable VTIMEZONE', () => {
    refused(text('BEGIN:VTIMEZONE', 'X-A:b', 'END:VTIMEZONE', 'BEGIN:VEVENT', 'UID:a', 'DTSTART:20240110T100000Z', 'END:VEVENT'),
      'valid-calendar-data', 'A VTIMEZONE has no TZID.');
  });

  void it('the missing or inconsistent times of RFC 5545 §3.6', () => {
    refused(event('SUMMARY:no start'), 'valid-calendar-data', 'VEVENT has no DTSTART (RFC 5545 §3.6.1).');
    refused(event('DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z', 'DURATION:PT1H'), 'valid-calendar-data',
      'VEVENT has both DTEND and DURATION; only one is allowed.');
    refused(event('DTSTART:20240110T100000Z', 'DTEND:20240110T090000Z'), 'valid-calendar-data',
      'VEVENT ends (DTEND 20240110T090000Z) before it starts (DTSTART 20240110T100000Z).');
    refused(event('DTSTART:20240110T100000Z', 'DURATION:-PT1H'), 'valid-calendar-data', 'VEVENT has a negative DURATION.');
    refused(event('DTSTART:20240110T100000Z', 'DTSTART:20240111T100000Z'), 'valid-calendar-data', 'VEVENT has more than one DTSTART.');
    refused(text('BEGIN:VTODO', 'UID:t', 'DTSTART:20240110T100000Z', 'DUE:20240110T110000Z', 'DURATION:PT1H', 'END:VTODO'), 'valid-calendar-data',
      'VTODO has both DUE and DURATION; only one is allowed.');
    refused(text('BEGIN:VTODO', 'UID:t', 'RRULE:FREQ=DAILY', 'END:VTODO'), 'valid-calendar-data', 'VTODO has RRULE but no DTSTART.');
    refused(event('DTSTART:20240110T100000Z', 'BEGIN:VALARM', 'ACTION:DISPLAY', 'END:VALARM'), 'valid-calendar-data',
      'A VALARM of VEVENT has no TRIGGER (RFC 5545 §3.6.6).');
  });

  void it('values that do not parse as their type, which ical.js would silently bend', () => {
    refused(event('DTSTART:20241345T100000Z'), 'valid-calendar-data', 'DTSTART of VEVENT: "20241345T100000Z" is not a valid DATE-TIME.');
    refused(event('DTSTART;VALUE=DATE:20240230'), 'valid-calendar-data', 'DTSTART of VEVENT: "20240230" is not a valid DATE.');
    refused(event('DTSTART:INVALID'), 'valid-calendar-data', /^DTSTART of VEVENT has a value that cannot be read: /);
    refused(event('DTSTART:20240110T100000Z', 'DURATION:P999999999999W'), 'valid-calendar-data',
      'DURATION of VEVENT: "P999999999999W" is not a valid DURATION (or is out of range).');
    refused(event('DTSTART:20240110T100000Z', 'DURATION:1H'), 'valid-calendar-data', /^DURATION of VEVENT has a value that cannot be read: /);
    refused(event('DTSTART:20240110T100000Z', 'RRULE:FREQ=DAILY;UNTIL=20241345T000000Z'), 'valid-calendar-data',
      'RRULE of VEVENT: has an invalid UNTIL "20241345T000000Z".');
    refused(event('DTSTART:20240110T100000Z', 'RRULE:FREQ=WEEKLY;BYMONTHDAY=3'), 'valid-calendar-data',
      'RRULE FREQ=WEEKLY;BYMONTHDAY=3 of VEVENT cannot be used: For WEEKLY recurrences neither BYMONTHDAY nor BYYEARDAY may appear.');
    refused(event('DTSTART:20240110T100000Z', 'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:soon', 'END:VALARM'), 'valid-calendar-data',
      /^TRIGGER of VALARM has a value that cannot be read: /);
  });

  void it('components in the wrong place', () => {
    refused(text('BEGIN:VALARM', 'TRIGGER:-PT5M', 'END:VALARM', 'BEGIN:VEVENT', 'UID:a', 'DTSTART:20240110T100000Z', 'END:VEVENT'),
      'valid-calendar-data', 'VALARM cannot appear inside VCALENDAR.');
  });

  void it('bad input with nothing but InvalidCalendarObject', () => {
    const bodies = ['', 'garbage', '\uFFFF', event('DTSTART;TZID=:20240110T100000'), event('DTSTART;VALUE=PERIOD:x'), event('RDATE;VALUE=TIME:083000'),
      event('DTSTART:20240110T100000Z', 'EXDATE;VALUE=DATE:'), text('BEGIN:VEVENT', 'END:VEVENT', 'BEGIN:VTODO', 'END:VTODO')];
    for (const body of bodies) {
      assert.throws(() => validateCalendarObject(body), InvalidCalendarObject, JSON.stringify(body));
    }
  });
});

void describe('validateCalendarObject and hostile rules', () => {
  void it('refuses rules that yield nothing within a bounded search, keeps sparse real ones', () => {
    for (const rule of ['FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', 'FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30']) {
      refused(event('DTSTART:20240101T000000Z', `RRULE:${rule}`), 'valid-calendar-data',
        `RRULE ${rule} of VEVENT yields no instances within a bounded search; it looks impossible (such as 30 February).`);
    }
    for (const rule of ['FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'FREQ=SECONDLY', 'FREQ=DAILY;COUNT=2']) {
      assert.equal(validateCalendarObject(event('DTSTART:20240101T000000Z', `RRULE:${rule}`)).info.uid, 'e1', rule);
    }
  });
});
