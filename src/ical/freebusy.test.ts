// Tests for the RFC 4791 §7.10 free-busy-query report body.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type ICAL from 'ical.js';
import { freeBusy, mayBeBusy } from './freebusy.ts';
import { parseCalendar } from './parse.ts';
import { prepareTimezones, resolveZone } from './timezones.ts';
import { ExpansionLimitExceeded } from './types.ts';

function load(...lines: string[]): ICAL.Component {
  const vcalendar = parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//Test//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n'));
  prepareTimezones(vcalendar);
  return vcalendar;
}
function event(uid: string, start: string, end: string, ...extra: string[]): ICAL.Component {
  return load('BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20240101T000000Z', `DTSTART${start}`, `DTEND${end}`, ...extra, 'END:VEVENT');
}
function expected(...freebusy: string[]): string {
  return [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Almanac//Almanac//EN',
    'BEGIN:VFREEBUSY', 'DTSTAMP:20240201T120000Z', 'DTSTART:20240110T000000Z', 'DTEND:20240111T120000Z',
    ...freebusy.map((line) => `FREEBUSY${line}`),
    'END:VFREEBUSY', 'END:VCALENDAR', '',
  ].join('\r\n');
}
const range = { start: Date.UTC(2024, 0, 10), end: Date.UTC(2024, 0, 11, 12) };
const now = Date.UTC(2024, 1, 1, 12, 0, 0, 456);

void describe('freeBusy', () => {
  void it('answers an empty calendar with an empty VFREEBUSY', () => {
    assert.equal(freeBusy([], range, { now }), expected());
  });

  void it('merges overlapping and touching busy time, sorted, per FBTYPE', () => {
    const objects = [
      event('c', ':20240110T120000Z', ':20240110T123000Z'),
      event('a', ':20240110T100000Z', ':20240110T110000Z', 'STATUS:CONFIRMED'),
      event('b', ':20240110T103000Z', ':20240110T120000Z', 'TRANSP:OPAQUE'),
      event('f', ':20240110T113000Z', ':20240110T130000Z', 'STATUS:TENTATIVE'),
      event('x', ':20240110T170000Z', ':20240110T180000Z', 'STATUS:X-SOMETHING'),
    ];
    assert.equal(freeBusy(objects, range, { now }), expected(
      ':20240110T100000Z/20240110T123000Z',
      ';FBTYPE=BUSY-TENTATIVE:20240110T113000Z/20240110T130000Z',
      ':20240110T170000Z/20240110T180000Z',
    ));
  });

  void it('skips TRANSPARENT and CANCELLED events, also per instance', () => {
    const objects = [
      event('t', ':20240110T140000Z', ':20240110T150000Z', 'TRANSP:TRANSPARENT'),
      event('x', ':20240110T150000Z', ':20240110T160000Z', 'STATUS:CANCELLED'),
      load(
        'BEGIN:VEVENT', 'UID:r', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240109T080000Z', 'DTEND:20240109T090000Z',
        'RRULE:FREQ=DAILY;COUNT=3', 'END:VEVENT',
        'BEGIN:VEVENT', 'UID:r', 'DTSTAMP:20240101T000000Z', 'RECURRENCE-ID:20240110T080000Z', 'DTSTART:20240110T080000Z',
        'DTEND:20240110T090000Z', 'STATUS:CANCELLED', 'END:VEVENT',
      ),
    ];
    assert.equal(freeBusy(objects, range, { now }), expected(':20240111T080000Z/20240111T090000Z'));
  });

  void it('includes stored VFREEBUSY periods with their FBTYPE, clipped to the range', () => {
    const stored = load(
      'BEGIN:VFREEBUSY', 'UID:fb', 'DTSTAMP:20240101T000000Z',
      'FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20240109T220000Z/PT4H',
      'FREEBUSY:20240110T170000Z/PT1H,20240111T110000Z/20240111T130000Z',
      'FREEBUSY;FBTYPE=BUSY:20240101T000000Z/PT1H',
      'END:VFREEBUSY',
    );
    const objects = [stored, event('a', ':20240110T173000Z', ':20240110T183000Z')];
    assert.equal(freeBusy(objects, range, { now }), expected(
      ';FBTYPE=BUSY-UNAVAILABLE:20240110T000000Z/20240110T020000Z',
      ':20240110T170000Z/20240110T183000Z',
      ':20240111T110000Z/20240111T120000Z',
    ));
  });

  void it('makes all-day events busy for their whole days in the floating zone', () => {
    const objects = [event('d', ';VALUE=DATE:20240111', ';VALUE=DATE:20240112'), event('e', ':20240110T230000Z', ':20240111T010000Z')];
    assert.equal(freeBusy(objects, range, { now }), expected(':20240110T230000Z/20240111T120000Z'));
    const newYork = resolveZone('America/New_York');
    assert.ok(newYork);
    assert.equal(freeBusy(objects, range, { now, floatingZone: newYork }), expected(
      ':20240110T230000Z/20240111T010000Z',
      ':20240111T050000Z/20240111T120000Z',
    ));
  });
});

void describe('mayBeBusy (stored at write time so free-busy-query can skip objects)', () => {
  void it('is false only when no instance can ever add busy time', () => {
    assert.equal(mayBeBusy(event('a', ':20240110T100000Z', ':20240110T110000Z')), true);
    assert.equal(mayBeBusy(event('t', ':20240110T100000Z', ':20240110T110000Z', 'TRANSP:TRANSPARENT', 'RRULE:FREQ=YEARLY')), false);
    assert.equal(mayBeBusy(event('c', ':20240110T100000Z', ':20240110T110000Z', 'STATUS:CANCELLED')), false);
    assert.equal(mayBeBusy(event('x', ':20240110T100000Z', ':20240110T110000Z', 'STATUS:TENTATIVE')), true);
    const override = load(
      'BEGIN:VEVENT', 'UID:o', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z', 'RRULE:FREQ=DAILY', 'TRANSP:TRANSPARENT', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:o', 'DTSTAMP:20240101T000000Z', 'RECURRENCE-ID:20240111T100000Z', 'DTSTART:20240111T100000Z', 'DTEND:20240111T110000Z', 'END:VEVENT',
    );
    assert.equal(mayBeBusy(override), true, 'one opaque override is enough');
    assert.equal(mayBeBusy(load('BEGIN:VTODO', 'UID:td', 'DTSTAMP:20240101T000000Z', 'END:VTODO')), false);
    assert.equal(mayBeBusy(load('BEGIN:VFREEBUSY', 'UID:f', 'DTSTAMP:20240101T000000Z', 'FREEBUSY:20240110T100000Z/PT1H', 'END:VFREEBUSY')), true);
    assert.equal(mayBeBusy(load('BEGIN:VFREEBUSY', 'UID:f', 'DTSTAMP:20240101T000000Z', 'END:VFREEBUSY')), false);
  });
});

void describe('freeBusy beyond the instance cap', () => {
  void it('refuses to answer with part of the busy time', () => {
    const dense = load('BEGIN:VEVENT', 'UID:dense', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T000000Z', 'DURATION:PT30M', 'RRULE:FREQ=HOURLY', 'END:VEVENT');
    // 36 hourly instances start in the range: all of them under a cap of 100, not 35 of them under a cap of 35.
    assert.match(freeBusy([dense], range, { now, maxInstances: 100 }), /FREEBUSY:20240111T110000Z\/20240111T113000Z/u);
    assert.throws(() => freeBusy([dense], range, { now, maxInstances: 35 }), ExpansionLimitExceeded);
  });
});
