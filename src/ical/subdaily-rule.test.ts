// Tests for the sub-daily rule arithmetic: the same members as ical.js's own iteration from DTSTART,
// from any later instant without walking there, and the rules it leaves to ical.js.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import { fromWallSeconds, subDailyRule, SUBDAILY_BUDGET_EXCEEDED, wallSeconds } from './subdaily-rule.ts';

const floating = (text: string): ICAL.Time => ICAL.Time.fromDateTimeString(text);

/** The first `n` values ical.js gives for the rule from DTSTART, DTSTART itself left out. */
function icalValues(rule: ICAL.Recur, dtstart: ICAL.Time, n: number): string[] {
  const iterator = rule.iterator(dtstart);
  const out: string[] = [];
  for (let value = iterator.next(); value !== null && out.length < n; value = iterator.next()) {
    if (value.compare(dtstart) !== 0) out.push(value.toString());
  }
  return out;
}

/** Rules ical.js iterates right (see the next test for those it does not). */
const RULES = [
  'FREQ=SECONDLY;BYHOUR=3;BYMINUTE=59;BYSECOND=58,59',
  'FREQ=MINUTELY;INTERVAL=13;BYSECOND=10,20;BYHOUR=1,2,23',
  'FREQ=MINUTELY;INTERVAL=90;BYMONTH=2,3;BYMONTHDAY=29',
  'FREQ=HOURLY;INTERVAL=5;BYMINUTE=15,45;BYDAY=MO,TH',
  'FREQ=HOURLY;BYMONTHDAY=15;BYHOUR=6,18',
  'FREQ=HOURLY;INTERVAL=3;UNTIL=20240110T120000',
  'FREQ=MINUTELY;INTERVAL=45',
  'FREQ=DAILY;INTERVAL=3',
  'FREQ=WEEKLY;INTERVAL=2;UNTIL=20260101T000000',
];

void describe('sub-daily rules by arithmetic', () => {
  void it('gives the members ical.js gives, from DTSTART and from a later instant', () => {
    const dtstart = floating('2023-12-30T22:17:31');
    for (const text of RULES) {
      const rule = ICAL.Recur.fromString(text);
      const expected = icalValues(rule, dtstart, 200);
      assert.ok(expected.length > 5, text);
      const calc = subDailyRule(rule, dtstart, rule.until, { steps: 1_000_000 });
      assert.ok(calc !== null, text);
      const got: string[] = [];
      let next = wallSeconds(dtstart) + 1;
      for (let member = calc.firstAtOrAfter(next); member !== null && got.length < expected.length; member = calc.firstAtOrAfter(next)) {
        got.push(fromWallSeconds(member).toString());
        next = member + 1;
      }
      assert.deepEqual(got, expected, text);
      // From just after the 100th member's predecessor, the 100th comes next without walking there.
      const late = expected[Math.min(100, expected.length - 1)] as string;
      const before = wallSeconds(floating(expected[Math.min(99, expected.length - 2)] as string)) + 1;
      const at = calc.firstAtOrAfter(before);
      assert.equal(at === null ? null : fromWallSeconds(at).toString(), late, text);
    }
  });

  void it('follows RFC 5545 where ical.js does not: the INTERVAL grid under BYSECOND, negative BYMONTHDAY, BYYEARDAY', () => {
    const dtstart = floating('2023-12-30T22:17:31');
    const members = (text: string, n: number): string[] => {
      const calc = subDailyRule(ICAL.Recur.fromString(text), dtstart, null, { steps: 100_000 });
      const out: string[] = [];
      let next = wallSeconds(dtstart);
      for (let member = calc?.firstAtOrAfter(next) ?? null; member !== null && out.length < n; member = calc?.firstAtOrAfter(next) ?? null) {
        out.push(fromWallSeconds(member).toString());
        next = member + 1;
      }
      return out;
    };
    // Every 7th second from 22:17:31 that is also second 0 or 30 of minute 5: 23:05:00 is 2,849 s
    // (407 × 7) after DTSTART; 23:05:30 (2,879 s) is not on the grid, 05:05:30 the next day is.
    const grid = members('FREQ=SECONDLY;INTERVAL=7;BYSECOND=0,30;BYMINUTE=5', 2);
    assert.deepEqual(grid, ['2023-12-30T23:05:00', '2023-12-31T05:05:30']);
    for (const member of grid) assert.equal((wallSeconds(floating(member)) - wallSeconds(dtstart)) % 7, 0);
    // -1 is the last day of the month (RFC 5545 §3.3.10 BYMONTHDAY).
    assert.deepEqual(members('FREQ=HOURLY;BYMONTHDAY=-1;BYHOUR=6', 3), ['2023-12-31T06:17:31', '2024-01-31T06:17:31', '2024-02-29T06:17:31']);
    // BYYEARDAY is allowed below DAILY: the first and the last day of the year.
    assert.deepEqual(members('FREQ=HOURLY;INTERVAL=12;BYYEARDAY=1,-1', 4), ['2023-12-31T10:17:31', '2023-12-31T22:17:31', '2024-01-01T10:17:31', '2024-01-01T22:17:31']);
  });

  void it('jumps decades ahead in a handful of steps', () => {
    const budget = { steps: 100 };
    const calc = subDailyRule(ICAL.Recur.fromString('FREQ=SECONDLY;BYHOUR=3;BYDAY=SU'), floating('1970-01-01T00:00:00'), null, budget);
    const member = calc?.firstAtOrAfter(wallSeconds(floating('2030-06-03T10:00:00')));
    assert.equal(member === undefined || member === null ? null : fromWallSeconds(member).toString(), '2030-06-09T03:00:00');
    assert.ok(budget.steps > 80);
  });

  void it('runs out of budget on a rule without members instead of searching forever', () => {
    const calc = subDailyRule(ICAL.Recur.fromString('FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30'), floating('2024-01-01T00:00:00'), null, { steps: 10_000 });
    assert.throws(() => calc?.firstAtOrAfter(0), (error) => error === SUBDAILY_BUDGET_EXCEEDED);
  });

  void it('leaves to ical.js what it does not compute exactly', () => {
    const start = floating('2024-01-01T00:00:00');
    for (const text of ['FREQ=DAILY;BYHOUR=9', 'FREQ=WEEKLY;BYDAY=MO', 'FREQ=MONTHLY', 'FREQ=HOURLY;BYSETPOS=1;BYMINUTE=0,30', 'FREQ=MINUTELY;BYDAY=1MO']) {
      assert.equal(subDailyRule(ICAL.Recur.fromString(text), start, null, { steps: 10 }), null, text);
    }
    assert.equal(subDailyRule(ICAL.Recur.fromString('FREQ=HOURLY'), ICAL.Time.fromDateString('2024-01-01'), null, { steps: 10 }), null);
  });
});
