import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCalendar } from '../ical/parse.ts';
import { resolveZone } from '../ical/timezones.ts';
import { memoryZone, InstanceMemory } from './instance-memory.ts';

const UTC = memoryZone(undefined);

const at = (iso: string): number => Date.parse(iso);
const vevent = (...lines: string[]) => parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'UID:a', 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n'));

void describe('InstanceMemory', () => {
  void it('decides a range exactly for an object without floating times, once it has seen it', () => {
    const memory = new InstanceMemory();
    const range = { start: at('2026-01-12T10:30:00Z'), end: at('2026-01-12T10:45:00Z') };
    assert.equal(memory.verdict('"weekly"', range, UTC), 'unknown', 'never seen');
    memory.remember('"weekly"', vevent('DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'RRULE:FREQ=WEEKLY;COUNT=3'), UTC);
    assert.equal(memory.verdict('"weekly"', range, UTC), 'yes');
    assert.equal(memory.verdict('"weekly"', { start: at('2026-01-12T11:00:00Z'), end: at('2026-01-12T12:00:00Z') }, UTC), 'no', 'DTEND is not in the instance');
    assert.equal(memory.verdict('"weekly"', { start: at('2026-01-12T09:00:00Z'), end: at('2026-01-12T10:00:00Z') }, UTC), 'no', 'the range ends where the instance starts');
    assert.equal(memory.verdict('"weekly"', { start: at('2026-01-07T00:00:00Z'), end: at('2026-01-09T00:00:00Z') }, UTC), 'no', 'between instances');
    assert.equal(memory.verdict('"weekly"', { start: at('2026-01-26T00:00:00Z'), end: null }, UTC), 'no', 'after COUNT');
  });

  void it('remembers an object with floating times per zone, exactly in each', () => {
    const memory = new InstanceMemory();
    const tokyo = memoryZone(resolveZone('Asia/Tokyo') ?? undefined);
    const allDay = vevent('DTSTART;VALUE=DATE:20260110', 'RRULE:FREQ=DAILY;COUNT=2');
    const lateOnThe11th = { start: at('2026-01-11T16:00:00Z'), end: at('2026-01-11T17:00:00Z') };
    memory.remember('"all-day"', allDay, UTC);
    assert.equal(memory.verdict('"all-day"', lateOnThe11th, UTC), 'yes', 'still the 11th in UTC');
    assert.equal(memory.verdict('"all-day"', lateOnThe11th, tokyo), 'unknown', 'not yet read in Tokyo');
    memory.remember('"all-day"', allDay, tokyo);
    assert.equal(memory.verdict('"all-day"', lateOnThe11th, tokyo), 'no', 'already the 12th in Tokyo (01:00), after the last instance');
  });

  void it('keeps at most the instances it was given, dropping the oldest objects first', () => {
    const memory = new InstanceMemory(5);
    const range = { start: at('2026-01-05T10:00:00Z'), end: at('2026-01-05T10:30:00Z') };
    memory.remember('"first"', vevent('DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'RRULE:FREQ=DAILY;COUNT=3'), UTC);
    memory.remember('"second"', vevent('DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', 'RRULE:FREQ=DAILY;COUNT=2'), UTC);
    assert.equal(memory.verdict('"second"', range, UTC), 'yes');
    assert.equal(memory.verdict('"first"', range, UTC), 'yes');
    memory.remember('"third"', vevent('DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z'), UTC);
    assert.equal(memory.verdict('"first"', range, UTC), 'unknown', 'forgotten');
    assert.equal(memory.verdict('"third"', range, UTC), 'yes');
  });
});
