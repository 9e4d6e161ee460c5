// Tests for decoding and parsing: what is refused as CALDAV:valid-calendar-data and how it is said.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCalendarBytes, parseCalendar } from './parse.ts';
import { InvalidCalendarObject } from './types.ts';

const VALID = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'UID:a', 'DTSTART:20240101T100000Z', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

function refused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidCalendarObject, `not an InvalidCalendarObject: ${String(error)}`);
    assert.equal(error.precondition, 'valid-calendar-data');
    assert.match(error.message, message);
    return true;
  });
}

void describe('decodeCalendarBytes', () => {
  void it('decodes UTF-8 and drops a byte-order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('BEGIN:VCALENDAR\r\nSUMMARY:Grüße\r\n')]);
    assert.equal(decodeCalendarBytes(bytes), 'BEGIN:VCALENDAR\r\nSUMMARY:Grüße\r\n');
  });

  void it('refuses text that is not UTF-8, naming the line', () => {
    const latin1 = new Uint8Array([...new TextEncoder().encode('BEGIN:VCALENDAR\r\nSUMMARY:Caf'), 0xe9, 0x0d, 0x0a]);
    refused(() => decodeCalendarBytes(latin1), /^The calendar data is not valid UTF-8 text \(line 2\)/);
  });
});

void describe('parseCalendar', () => {
  void it('returns the VCALENDAR, ignoring a BOM, empty lines and the case of names', () => {
    assert.equal(parseCalendar(`\uFEFF${VALID}`).name, 'vcalendar');
    const sloppy = '\n\nbegin:Vcalendar\nversion:2.0\n\nBEGIN:vevent\nuid:a\nDTSTART:20240101T100000Z\nEND:VEVENT\nEND:VCALENDAR\n\n';
    const vcalendar = parseCalendar(sloppy);
    assert.equal(vcalendar.getFirstSubcomponent('vevent')?.getFirstPropertyValue('uid'), 'a');
  });

  void it('refuses several root components', () => {
    refused(() => parseCalendar(VALID + VALID), /^The calendar data holds 2 root components \(VCALENDAR\); a calendar object resource is exactly one VCALENDAR\.$/);
  });

  void it('refuses a root that is not VCALENDAR', () => {
    refused(() => parseCalendar('BEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n'), /^The root component is VEVENT, not VCALENDAR\.$/);
  });

  void it('refuses what ical.js cannot parse, with the line when the message quotes it', () => {
    refused(() => parseCalendar('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX\r\nEND:VCALENDAR\r\n'), /^The calendar data is not valid iCalendar: .*"X" \(line 3\)$/);
    refused(() => parseCalendar('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n'), /component began but did not end/);
    refused(() => parseCalendar('BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nRRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\nEND:VCALENDAR'), /invalid frequency "SOMETIMES".*\(line 3\)/);
  });

  void it('refuses control characters and stray carriage returns, naming the line', () => {
    refused(() => parseCalendar('BEGIN:VCALENDAR\r\nSUMMARY:a\fb\r\nEND:VCALENDAR\r\n'), /^Line 2 contains the control character U\+000C, which iCalendar does not allow\.$/);
    refused(() => parseCalendar('BEGIN:VCALENDAR\r\nSUMMARY:a\rb\r\nEND:VCALENDAR\r\n'), /^Line 2 contains a carriage return that does not end a line/);
    assert.equal(parseCalendar(VALID.trimEnd() + '\r').name, 'vcalendar', 'a final CR without LF is fine');
  });

  void it('refuses empty input', () => {
    refused(() => parseCalendar(''), /^The calendar data is empty\.$/);
    refused(() => parseCalendar('\r\n\r\n'), /^The calendar data is empty\.$/);
  });

  void it('throws nothing but InvalidCalendarObject for junk', () => {
    const junk = ['BEGIN:', 'BEGIN:VCALENDAR\r\nEND:VEVENT', ':::', 'BEGIN;\\r\\n', 'END:VCALENDAR', 'BEGIN:VCALENDAR\r\nA;B=":C\r\nEND:VCALENDAR',
      'BEGIN:VCALENDAR\r\n DTSTART:1\r\nEND:VCALENDAR', '\u0000'];
    for (const text of junk) {
      try {
        parseCalendar(text);
      } catch (error) {
        assert.ok(error instanceof InvalidCalendarObject, `${JSON.stringify(text)} threw ${String(error)}`);
      }
    }
  });
});
