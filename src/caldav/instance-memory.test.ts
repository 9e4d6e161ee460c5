import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCalendar } from '../ical/parse.ts';
import { InstanceMemory } from './instance-memory.ts';

const at = (iso: string): number => Date.parse(iso);
const vevent = (...lines: string[]) => parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'UID:a', 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n'));

void describe('InstanceMemory', () => {
  void it('decides a range exactly for an object without floating times, once it has seen it', () => {
    const memory = new InstanceMemory();
    const range = { start: at('2026-01-12T10:30:00Z'), end: at('2026-01-12T10:45:00Z') };
    assert.equal(memory.verdict('"weekly"', range), 'unknown', 'never seen');
    memory.remember('"weekly"', vevent('DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'RRULE:FREQ=WEEKLY;COUNT=3'));
    assert.equal(memory.verdict('"weekly"', range), 'yes');
    assert.equal(memory.verdict('"weekly"', { start: at('2026-01-12T11:00:00Z'), end: at('2026-01-12T12:00:00Z') }), 'no', 'DTEND is not in the instance');
    assert.equal(memory.verdict('"weekly"', { start: at('2026-01-12T09:00:00Z'), end: at('2026-01-12T10:00:00Z') }), 'no', 'the range ends where the instance starts');
    assert.equal(memory.verdict('"weekly"', { start: at('2026-01-07T00:00:00Z'), end: at('2026-01-09T00:00:00Z') }), 'no', 'between instances');
    assert.equal(memory.verdict('"weekly"', { start: at('2026-01-26T00:00:00Z'), end: null }), 'no', 'after COUNT');
  });

  void it('for floating times only rules out what no zone could bring into the range', () => {
    const memory = new InstanceMemory();
    memory.remember('"all-day"', vevent('DTSTART;VALUE=DATE:20260110', 'RRULE:FREQ=DAILY;COUNT=2'));
    assert.equal(memory.verdict('"all-day"', { start: at('2026-01-10T12:00:00Z'), end: at('2026-01-10T13:00:00Z') }), 'unknown', 'depends on the zone: parse');
    assert.equal(memory.verdict('"all-day"', { start: at('2026-01-20T00:00:00Z'), end: at('2026-01-21T00:00:00Z') }), 'no');
  });

  void it('keeps at most the instances it was given, dropping the oldest objects first', () => {
    const memory = new InstanceMemory(5);
    const range = { start: at('2026-01-05T10:00:00Z'), end: at('2026-01-05T10:30:00Z') };
    memory.remember('"first"', vevent('DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'RRULE:FREQ=DAILY;COUNT=3'));
    memory.remember('"second"', vevent('DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'RRULE:FREQ=DAILY;COUNT=2'));
    assert.equal(memory.verdict('"second"', range), 'yes');
    assert.equal(memory.verdict('"first"', range), 'yes');
    memory.remember('"third"', vevent('DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z'));
    assert.equal(memory.verdict('"first"', range), 'unknown', 'forgotten');
    assert.equal(memory.verdict('"third"', range), 'yes');
  });
});
