// Sub-daily recurrence rules (FREQ=SECONDLY, MINUTELY, HOURLY; and plain DAILY/WEEKLY steps) computed
// by arithmetic on the wall clock instead of ical.js's second-by-second search: the next member at or after any instant is found
// by skipping whole months, days, hours and minutes that the BYxxx parts exclude, so a rule started in
// 1970 costs the same as one started today. Imports nothing of ours outside src/ical.
import ICAL from 'ical.js';

/** Seconds of one FREQ period. */
const UNIT_SECONDS: Readonly<Record<string, number>> = { SECONDLY: 1, MINUTELY: 60, HOURLY: 3600 };
/** Frequencies handled only without BYxxx parts. */
const PLAIN_UNIT_SECONDS: Readonly<Record<string, number>> = { DAILY: 86_400, WEEKLY: 604_800 };
const DAY = 86_400;
const WEEKDAYS: readonly string[] = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
/** The parts this module evaluates; a rule with any other (BYSETPOS, BYWEEKNO, RSCALE...) goes to ical.js. */
const KNOWN_PARTS: ReadonlySet<string> = new Set(['BYSECOND', 'BYMINUTE', 'BYHOUR', 'BYDAY', 'BYMONTHDAY', 'BYYEARDAY', 'BYMONTH']);

/** Thrown when the step budget runs out: the caller treats the set as truncated. */
export const SUBDAILY_BUDGET_EXCEEDED = new Error('sub-daily recurrence budget exceeded');

/** Wall-clock seconds: the fields of a floating time read as if they were UTC. */
export function wallSeconds(time: ICAL.Time): number {
  const date = new Date(Date.UTC(2000, time.month - 1, time.day, time.hour, time.minute, time.second));
  date.setUTCFullYear(time.year);
  return Math.floor(date.getTime() / 1000);
}

/** The ICAL.Time of wall-clock seconds, in `zone` (default floating). */
export function fromWallSeconds(seconds: number, zone: ICAL.Timezone = ICAL.Timezone.localTimezone): ICAL.Time {
  const d = new Date(seconds * 1000);
  return ICAL.Time.fromData({
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(),
  }, zone);
}

function floorTo(value: number, unit: number): number {
  return value - (((value % unit) + unit) % unit);
}

/** Sorted distinct integers of a BYxxx part, or null when the part is absent. */
function numbers(parts: Record<string, unknown>, name: string): number[] | null {
  const raw = parts[name];
  if (raw === undefined) return null;
  if (!Array.isArray(raw)) return null;
  return [...new Set(raw.map(Number))].sort((a, b) => a - b);
}

/** The smallest member of a sorted list that is >= value, or null. */
function atOrAfter(sorted: readonly number[], value: number): number | null {
  for (const item of sorted) if (item >= value) return item;
  return null;
}

export interface SubDailyRule {
  /** The first member at or after wall-clock second `from` (and not before DTSTART), or null past UNTIL. */
  firstAtOrAfter(from: number): number | null;
  /** Wall-clock seconds of DTSTART. */
  readonly start: number;
  /** Whether the members are simply DTSTART + k × step (no BYxxx part). */
  readonly plainStep: number | null;
}

/**
 * A calculator for `rule` started at the floating wall-clock time `dtstart`, or null when the rule is
 * not one this module handles exactly: a frequency above HOURLY (except DAILY and WEEKLY without any
 * BYxxx part, plain steps of nominal days), a DATE start or UNTIL, BYSETPOS,
 * BYWEEKNO, a BYDAY with an ordinal (RFC 5545 allows none below MONTHLY), or values out of range.
 * `budget.steps` is decremented on every skip; at zero SUBDAILY_BUDGET_EXCEEDED is thrown.
 *
 * RFC 5545 §3.3.10 (table on BYxxx and FREQ): below DAILY every part is a limit, except BYSECOND for
 * MINUTELY and BYMINUTE/BYSECOND for HOURLY, which expand each period (absent, they take DTSTART's
 * values). A member is therefore a second whose FREQ period lies on the INTERVAL grid from DTSTART's
 * period, whose finer fields are in the expanding sets, and whose date and coarser fields pass the limits.
 */
export function subDailyRule(rule: ICAL.Recur, dtstart: ICAL.Time, until: ICAL.Time | null, budget: { steps: number }): SubDailyRule | null {
  const parts = rule.parts as Record<string, unknown>;
  // DAILY and WEEKLY rules without any BYxxx part are steps of whole nominal days on the wall clock.
  const freqUnit = UNIT_SECONDS[rule.freq] ?? (Object.keys(parts).length === 0 ? PLAIN_UNIT_SECONDS[rule.freq] : undefined);
  if (freqUnit === undefined || dtstart.isDate || (until !== null && until.isDate)) return null;
  if (Object.keys(parts).some((name) => !KNOWN_PARTS.has(name))) return null;
  const unit: number = freqUnit;
  const interval = rule.interval;
  if (!Number.isInteger(interval) || interval < 1) return null;

  const seconds = numbers(parts, 'BYSECOND');
  const minutes = numbers(parts, 'BYMINUTE');
  const hours = numbers(parts, 'BYHOUR');
  const monthDays = numbers(parts, 'BYMONTHDAY');
  const yearDays = numbers(parts, 'BYYEARDAY');
  const months = numbers(parts, 'BYMONTH');
  let weekdays: Set<number> | null = null;
  if (parts.BYDAY !== undefined) {
    if (!Array.isArray(parts.BYDAY)) return null;
    weekdays = new Set();
    for (const day of parts.BYDAY as unknown[]) {
      const index = WEEKDAYS.indexOf(String(day).toUpperCase());
      if (index < 0) return null;
      weekdays.add(index);
    }
  }
  const inRange = (list: number[] | null, lo: number, hi: number): boolean => list === null || list.every((v) => Number.isInteger(v) && v >= lo && v <= hi);
  if (!inRange(seconds, 0, 60) || !inRange(minutes, 0, 59) || !inRange(hours, 0, 23) || !inRange(months, 1, 12)
    || !inRange(monthDays, -31, 31) || !inRange(yearDays, -366, 366)) return null;

  const start = wallSeconds(dtstart);
  const end = until === null ? Infinity : wallSeconds(until);
  const step = unit * interval;
  const gridOrigin = floorTo(start, unit);
  // Finer fields of each period: expanded by BYSECOND/BYMINUTE, else DTSTART's (RFC 5545 §3.3.10).
  const startSecond = ((start % 60) + 60) % 60;
  const startMinute = Math.floor((((start % 3600) + 3600) % 3600) / 60);
  let offsets: number[] = [start - gridOrigin];
  if (unit === 60) offsets = seconds ?? [startSecond];
  if (unit === 3600) {
    offsets = [];
    for (const m of minutes ?? [startMinute]) for (const s of seconds ?? [startSecond]) offsets.push(m * 60 + s);
    offsets.sort((a, b) => a - b);
  }
  const minuteLimit = unit <= 60 ? minutes : null;
  const secondLimit = unit === 1 ? seconds : null;
  const plain = Object.keys(parts).length === 0;

  function dayPasses(date: Date): 'ok' | 'month' | 'day' {
    const month = date.getUTCMonth() + 1;
    if (months !== null && !months.includes(month)) return 'month';
    if (weekdays !== null && !weekdays.has(date.getUTCDay())) return 'day';
    const year = date.getUTCFullYear();
    if (monthDays !== null) {
      const length = ICAL.Time.daysInMonth(month, year);
      const day = date.getUTCDate();
      if (!monthDays.some((d) => (d > 0 ? d === day : length + d + 1 === day))) return 'day';
    }
    if (yearDays !== null) {
      const length = ICAL.Time.isLeapYear(year) ? 366 : 365;
      const yearStart = new Date(date.getTime());
      yearStart.setUTCMonth(0, 1);
      yearStart.setUTCHours(0, 0, 0, 0);
      const yearDay = Math.floor((date.getTime() - yearStart.getTime()) / 86_400_000) + 1;
      if (!yearDays.some((d) => (d > 0 ? d === yearDay : length + d + 1 === yearDay))) return 'day';
    }
    return 'ok';
  }

  function firstAtOrAfter(from: number): number | null {
    let x = Math.max(from, start);
    for (;;) {
      if (x > end) return null;
      if (--budget.steps < 0) throw SUBDAILY_BUDGET_EXCEEDED;
      const date = new Date(x * 1000);
      const dayStart = floorTo(x, DAY);
      const day = dayPasses(date);
      if (day === 'month') {
        const next = new Date(dayStart * 1000);
        next.setUTCMonth(next.getUTCMonth() + 1, 1);
        x = Math.floor(next.getTime() / 1000);
        continue;
      }
      if (day === 'day') {
        x = dayStart + DAY;
        continue;
      }
      const hour = date.getUTCHours();
      if (hours !== null && !hours.includes(hour)) {
        const next = atOrAfter(hours, hour + 1);
        x = next === null ? dayStart + DAY : dayStart + next * 3600;
        continue;
      }
      const hourStart = floorTo(x, 3600);
      const minute = date.getUTCMinutes();
      if (minuteLimit !== null && !minuteLimit.includes(minute)) {
        const next = atOrAfter(minuteLimit, minute + 1);
        x = next === null ? hourStart + 3600 : hourStart + next * 60;
        continue;
      }
      const minuteStart = floorTo(x, 60);
      if (secondLimit !== null && !secondLimit.includes(date.getUTCSeconds())) {
        const next = atOrAfter(secondLimit, date.getUTCSeconds() + 1);
        x = next === null || next >= 60 ? minuteStart + 60 : minuteStart + next;
        continue;
      }
      const period = floorTo(x, unit);
      const offGrid = (((period - gridOrigin) % step) + step) % step;
      if (offGrid !== 0) {
        x = period + step - offGrid;
        continue;
      }
      const offset = atOrAfter(offsets, x - period);
      if (offset === null || offset >= unit) {
        x = period + unit;
        continue;
      }
      const member = period + offset;
      return member > end ? null : member;
    }
  }

  return { firstAtOrAfter, start, plainStep: plain ? step : null };
}
