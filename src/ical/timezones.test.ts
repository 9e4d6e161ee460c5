// Tests for TZID resolution, the server's VTIMEZONE texts, client VTIMEZONEs and how objects get
// their zones (embedded definitions stay per object).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import { toUtcMs } from './occurrences.ts';
import { parseCalendar } from './parse.ts';
import { isKnownTimezoneId, resolveZone, UTC_ZONE, vtimezoneText, zoneFromVtimezone } from './timezones.ts';
import { InvalidCalendarObject } from './types.ts';

/** The zone's UTC offset in hours at noon local time on the given day. */
function offsetHours(zone: ICAL.Timezone | null, year: number, month: number, day = 15): number | null {
  return zone === null ? null : zone.utcOffset(ICAL.Time.fromData({ year, month, day, hour: 12 })) / 3600;
}

function dtstartMs(text: string): number {
  const vcalendar = parseCalendar(text);
  const event = vcalendar.getFirstSubcomponent('vevent') as ICAL.Component;
  return toUtcMs(event.getFirstPropertyValue('dtstart') as ICAL.Time);
}

function event(tzid: string, vtimezone: readonly string[] = []): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', ...vtimezone, 'BEGIN:VEVENT', 'UID:a',
    `DTSTART;TZID="${tzid}":20240115T120000`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

const fixedZone = (tzid: string, offset: string): string[] =>
  ['BEGIN:VTIMEZONE', `TZID:${tzid}`, 'BEGIN:STANDARD', 'DTSTART:19700101T000000', `TZOFFSETFROM:${offset}`, `TZOFFSETTO:${offset}`, 'END:STANDARD', 'END:VTIMEZONE'];

void describe('resolveZone', () => {
  void it('knows IANA ids in any case, and aliases', () => {
    const berlin = resolveZone('Europe/Berlin');
    assert.equal(berlin?.tzid, 'Europe/Berlin');
    assert.deepEqual([offsetHours(berlin, 2024, 1), offsetHours(berlin, 2024, 7)], [1, 2]);
    assert.equal(resolveZone('europe/berlin'), berlin);
    assert.deepEqual([offsetHours(resolveZone('US/Pacific'), 2024, 1), offsetHours(resolveZone('US/Pacific'), 2024, 7)], [-8, -7]);
    assert.equal(offsetHours(resolveZone('Asia/Calcutta'), 2024, 1), 5.5);
  });

  void it('maps UTC names to the UTC zone', () => {
    for (const name of ['UTC', 'Etc/UTC', 'GMT', 'Z', 'Etc/GMT']) assert.equal(resolveZone(name), UTC_ZONE, name);
  });

  void it('knows Windows zone names', () => {
    assert.equal(resolveZone('Pacific Standard Time')?.tzid, 'America/Los_Angeles');
    assert.equal(resolveZone('W. Europe Standard Time')?.tzid, 'Europe/Berlin');
  });

  void it('reads Outlook display names when a named place and the offset agree', () => {
    assert.equal(resolveZone('(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna')?.tzid, 'Europe/Amsterdam');
    assert.equal(resolveZone('(UTC+02:00) Athens, Bucharest, Istanbul')?.tzid, 'Europe/Athens');
    assert.equal(resolveZone('(GMT-08.00) Pacific Time (US & Canada); Tijuana')?.tzid, 'America/Los_Angeles');
    assert.equal(resolveZone('(UTC-05:00) Eastern Time (US & Canada)')?.tzid, 'America/New_York');
    assert.equal(resolveZone('(UTC) Coordinated Universal Time'), UTC_ZONE);
    assert.equal(resolveZone('(UTC+05:00) Amsterdam'), null, 'offset does not match the place');
    assert.equal(resolveZone('(GMT +01:00)'), null, 'an offset alone names no rules');
  });

  void it('reads the IANA suffix of Evolution/Lightning globally unique ids', () => {
    assert.equal(resolveZone('/softwarestudio.org/Olson_20011030_5/Pacific/Auckland')?.tzid, 'Pacific/Auckland');
    assert.equal(resolveZone('/freeassociation.sourceforge.net/Tzfile/America/Argentina/Buenos_Aires')?.tzid, 'America/Argentina/Buenos_Aires');
  });

  void it('returns null for anything else', () => {
    for (const name of ['Foo/Bar', '', 'Eastern', 'Canberra, Melbourne, Sydney']) {
      assert.equal(resolveZone(name), null, name);
      assert.equal(isKnownTimezoneId(name), false, name);
    }
    assert.equal(isKnownTimezoneId('America/New_York'), true);
  });

  void it('keeps the zone offset before 1970, where the database starts', () => {
    assert.equal(offsetHours(resolveZone('Europe/Berlin'), 1960, 1), 1);
    assert.equal(offsetHours(resolveZone('America/New_York'), 1950, 1), -5);
  });
});

void describe('vtimezoneText', () => {
  void it('gives a CRLF VTIMEZONE whose TZID is the requested id and whose rules are the zone\'s', () => {
    const text = vtimezoneText('US/Pacific') as string;
    assert.ok(text.startsWith('BEGIN:VTIMEZONE\r\nTZID:US/Pacific\r\n'));
    assert.ok(text.includes('\r\nX-LIC-LOCATION:America/Los_Angeles\r\n'));
    assert.ok(text.endsWith('END:VTIMEZONE'));
    assert.equal(text.includes('16010101'), false, 'the database definition as it is, without the computing aid');
    assert.equal(/[^\r]\n/.test(text), false);
    const zone = zoneFromVtimezone(text);
    assert.equal(zone.tzid, 'US/Pacific');
    assert.deepEqual([offsetHours(zone, 2024, 1), offsetHours(zone, 2024, 7)], [-8, -7]);
  });

  void it('escapes a TZID that needs it, has a UTC definition, and knows nothing of unknown ids', () => {
    assert.ok(vtimezoneText('(UTC+02:00) Athens, Bucharest, Istanbul')?.includes('\r\nTZID:(UTC+02:00) Athens\\, Bucharest\\, Istanbul\r\n'));
    const utc = vtimezoneText('UTC') as string;
    assert.ok(utc.includes('TZID:UTC\r\n') && utc.includes('TZOFFSETTO:+0000'));
    assert.equal(vtimezoneText('Foo/Bar'), null);
  });
});

void describe('zoneFromVtimezone', () => {
  void it('takes a bare VTIMEZONE or one inside a VCALENDAR', () => {
    const bare = fixedZone('Custom/Plus5', '+0500').join('\r\n');
    assert.equal(offsetHours(zoneFromVtimezone(bare), 2024, 1), 5);
    const wrapped = ['BEGIN:VCALENDAR', 'VERSION:2.0', ...fixedZone('Custom/Minus3', '-0300'), 'END:VCALENDAR'].join('\r\n');
    assert.equal(offsetHours(zoneFromVtimezone(wrapped), 2024, 7), -3);
  });

  void it('refuses unusable definitions with valid-calendar-data', () => {
    const cases: [string, RegExp][] = [
      ['not a calendar', /not valid iCalendar/],
      ['BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR', /exactly one VTIMEZONE/],
      [[...fixedZone('A', '+0100'), ...fixedZone('B', '+0200')].join('\r\n'), /not valid iCalendar/],
      ['BEGIN:VTIMEZONE\r\nTZID:Empty\r\nEND:VTIMEZONE', /no STANDARD or DAYLIGHT/],
      [fixedZone('Bad', '+5744').join('\r\n'), /TZOFFSETFROM of VTIMEZONE "Bad" is not a valid UTC offset/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => zoneFromVtimezone(text), (error: unknown) =>
        error instanceof InvalidCalendarObject && error.precondition === 'valid-calendar-data' && message.test(error.message), text);
    }
  });
});

void describe('prepareTimezones (through parseCalendar)', () => {
  void it('resolves a Windows TZID the object does not define', () => {
    assert.equal(dtstartMs(event('W. Europe Standard Time')), Date.parse('2024-01-15T11:00:00Z'));
  });

  void it('prefers the object\'s own VTIMEZONE and never registers it globally', () => {
    assert.equal(dtstartMs(event('Europe/Berlin', fixedZone('Europe/Berlin', '+0500'))), Date.parse('2024-01-15T07:00:00Z'));
    assert.equal(dtstartMs(event('Europe/Berlin')), Date.parse('2024-01-15T11:00:00Z'));
    assert.equal(dtstartMs(event('Custom/Only-Here', fixedZone('Custom/Only-Here', '-0200'))), Date.parse('2024-01-15T14:00:00Z'));
    assert.equal(ICAL.TimezoneService.has('Custom/Only-Here'), false);
    assert.equal(dtstartMs(event('Custom/Only-Here', fixedZone('Custom/Only-Here', '+0300'))), Date.parse('2024-01-15T09:00:00Z'));
  });

  void it('reads observances given by DTSTART plus RDATE, and instants before the first onset', () => {
    const vtimezone = ['BEGIN:VTIMEZONE', 'TZID:Custom/Rdates',
      'BEGIN:STANDARD', 'DTSTART:20221106T020000', 'TZOFFSETFROM:-0700', 'TZOFFSETTO:-0800', 'RDATE:20231105T020000', 'END:STANDARD',
      'BEGIN:DAYLIGHT', 'DTSTART:20230312T020000', 'TZOFFSETFROM:-0800', 'TZOFFSETTO:-0700', 'RDATE:20240310T020000', 'END:DAYLIGHT',
      'END:VTIMEZONE'];
    const at = (local: string): number => dtstartMs(event('Custom/Rdates', vtimezone).replace('20240115T120000', local));
    assert.equal(at('20230920T120000'), Date.parse('2023-09-20T19:00:00Z'), 'daylight time from the DAYLIGHT DTSTART onset');
    assert.equal(at('20231120T120000'), Date.parse('2023-11-20T20:00:00Z'));
    assert.equal(at('20220601T120000'), Date.parse('2022-06-01T19:00:00Z'), 'before the first onset: its TZOFFSETFROM');
  });
});

void describe('UTC offsets of zoned times (tz-offsets)', () => {
  const at = (tzid: string, local: string): number => dtstartMs(event(tzid).replace('20240115T120000', local));

  void it('reads a time in a DST gap with the offset before it, and a repeated time as its first occurrence (RFC 5545 §3.3.5)', () => {
    assert.equal(at('America/New_York', '20070311T023000'), Date.parse('2007-03-11T07:30:00Z'));
    assert.equal(at('America/New_York', '20071104T013000'), Date.parse('2007-11-04T05:30:00Z'));
    assert.equal(at('America/New_York', '20071104T020000'), Date.parse('2007-11-04T07:00:00Z'));
    assert.equal(at('Europe/Berlin', '20240331T023000'), Date.parse('2024-03-31T01:30:00Z'));
    assert.equal(at('Europe/Berlin', '20241027T023000'), Date.parse('2024-10-27T00:30:00Z'));
  });

  void it('agrees with ical.js away from transitions', () => {
    for (const tzid of ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
      const zone = resolveZone(tzid) as ICAL.Timezone;
      for (let day = 0; day < 730; day += 5) {
        const time = ICAL.Time.fromData({ year: 2024, month: 1, day: 1 + day, hour: 10, minute: 15 }, zone);
        assert.equal(toUtcMs(time), time.toUnixTime() * 1000, `${tzid} ${time.toString()}`);
      }
    }
  });
});

void describe('far-future years', () => {
  void it('fold back by 400-year cycles instead of growing the shared zone', () => {
    const zone = resolveZone('Europe/Berlin') as ICAL.Timezone;
    const size = zone.changes.length;
    const summer = (year: number): number => toUtcMs(ICAL.Time.fromData({ year, month: 7, day: 1, hour: 12 }, zone));
    const winter = (year: number): number => toUtcMs(ICAL.Time.fromData({ year, month: 1, day: 1, hour: 12 }, zone));
    for (const year of [2500, 3001, 5555, 9999]) {
      assert.equal(summer(year), Date.UTC(year, 6, 1, 10), `summer ${year}`);
      assert.equal(winter(year), Date.UTC(year, 0, 1, 11), `winter ${year}`);
    }
    assert.equal(zone.changes.length, size);
  });
});
