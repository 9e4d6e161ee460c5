// Instants and instance shapes: ICAL.Time → UTC ms (floating and DATE values in a chosen zone), the
// span of one instance of a VEVENT/VTODO/VJOURNAL/VFREEBUSY/VAVAILABILITY, and the RFC 4791 §9.9
// time-range condition that instance must meet. Imports nothing of ours outside src/ical.
import ICAL from 'ical.js';
import { offsetAtInstant, offsetOfWallTime } from './tz-offsets.ts';
import type { TimeRange } from './types.ts';

const DAY_MS = 86_400_000;

/** Whether a value has no zone of its own: a DATE, or a DATE-TIME with neither Z nor a TZID (RFC 5545 §3.3.5 form 1). */
export function isFloating(time: ICAL.Time): boolean {
  return time.isDate || time.zone === ICAL.Timezone.localTimezone || time.zone.tzid === 'floating';
}

/** The wall-clock fields of `time` read as if they were UTC. */
function wallMs(time: ICAL.Time): number {
  const hour = time.isDate ? 0 : time.hour;
  const minute = time.isDate ? 0 : time.minute;
  const second = time.isDate ? 0 : time.second;
  const ms = Date.UTC(time.year, time.month - 1, time.day, hour, minute, second);
  if (time.year >= 100) return ms;
  const date = new Date(ms);
  date.setUTCFullYear(time.year);
  return date.getTime();
}

/**
 * UTC epoch ms of a DATE or DATE-TIME. Floating values and DATEs are read in `floatingZone` (default
 * UTC; RFC 4791 §7.3: the query's or calendar's time zone); others in their own zone. A local time
 * in a DST gap takes the offset before the gap, one that occurs twice its first occurrence (RFC 5545
 * §3.3.5).
 */
export function toUtcMs(time: ICAL.Time, floatingZone?: ICAL.Timezone): number {
  const zone = isFloating(time) ? (floatingZone ?? ICAL.Timezone.utcTimezone) : time.zone;
  const wall = wallMs(time);
  return wall - offsetOfWallTime(zone, wall / 1000, time.year) * 1000;
}

/** The wall-clock time in `zone` (floating, fields as in that zone) of the UTC instant `ms`. */
export function wallTimeIn(zone: ICAL.Timezone, ms: number): ICAL.Time {
  const wall = new Date(ms + offsetAtInstant(zone, Math.floor(ms / 1000)) * 1000);
  return ICAL.Time.fromData({
    year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate(),
    hour: wall.getUTCHours(), minute: wall.getUTCMinutes(), second: wall.getUTCSeconds(),
  }, ICAL.Timezone.localTimezone);
}

/** `time` moved by whole days on the wall clock (a nominal day, RFC 5545 §3.3.6). */
export function addDays(time: ICAL.Time, days: number): ICAL.Time {
  const moved = time.clone();
  if (days !== 0) moved.adjust(days, 0, 0, 0);
  return moved;
}

/** Whole days from one DATE to another. */
export function daysBetween(from: ICAL.Time, to: ICAL.Time): number {
  return Math.round((wallMs(to) - wallMs(from)) / DAY_MS);
}

/**
 * The end of a duration started at `start`, in UTC ms: weeks and days are nominal (the same wall-clock
 * time so many days later, whatever DST does), hours, minutes and seconds exact (RFC 5545 §3.3.6).
 */
export function durationEndMs(start: ICAL.Time, duration: ICAL.Duration, floatingZone?: ICAL.Timezone): number {
  const sign = duration.isNegative ? -1 : 1;
  const days = sign * (duration.weeks * 7 + duration.days);
  const exact = sign * (duration.hours * 3600 + duration.minutes * 60 + duration.seconds) * 1000;
  return toUtcMs(addDays(start, days), floatingZone) + exact;
}

/** The RFC 4791 §9.9 condition one instance meets, written with the RFC's own comparisons. */
export type RangeTest =
  /** (start < e) AND (end > s): VEVENT with DTEND, or a positive DURATION, or an all-day one; VJOURNAL DATE. */
  | { readonly kind: 'overlap'; readonly s: number; readonly e: number }
  /** (start <= t) AND (end > t): an instantaneous VEVENT, VTODO with DTSTART only, VJOURNAL DATE-TIME. */
  | { readonly kind: 'instant'; readonly t: number }
  /** VTODO DTSTART+DURATION: (start <= e) AND ((end > s) OR (end >= e)). */
  | { readonly kind: 'todo-duration'; readonly s: number; readonly e: number }
  /** VTODO DTSTART+DUE: ((start < e) OR (start <= s)) AND ((end > s) OR (end >= e)). */
  | { readonly kind: 'todo-due'; readonly s: number; readonly e: number }
  /** VTODO DUE only: (start < t) AND (end >= t). */
  | { readonly kind: 'todo-due-only'; readonly t: number }
  /** VTODO COMPLETED and CREATED: ((start <= a) OR (start <= b)) AND ((end >= a) OR (end >= b)). */
  | { readonly kind: 'todo-created-completed'; readonly a: number; readonly b: number }
  /** VTODO COMPLETED only: (start <= t) AND (end >= t). */
  | { readonly kind: 'todo-completed'; readonly t: number }
  /** VTODO CREATED only: (end > t). */
  | { readonly kind: 'todo-created'; readonly t: number }
  /** VFREEBUSY with DTSTART and DTEND: (start <= e) AND (end > s). */
  | { readonly kind: 'freebusy'; readonly s: number; readonly e: number }
  /** VFREEBUSY without them: any FREEBUSY period with (start < period-end) AND (end > period-start). */
  | { readonly kind: 'periods'; readonly periods: readonly (readonly [number, number])[] }
  | { readonly kind: 'always' }
  | { readonly kind: 'never' };

/** Whether the range satisfies the test; an unbounded side compares as -infinity / +infinity. */
export function rangeSatisfies(test: RangeTest, range: TimeRange): boolean {
  const start = range.start ?? -Infinity;
  const end = range.end ?? Infinity;
  switch (test.kind) {
    case 'overlap': return start < test.e && end > test.s;
    case 'instant': return start <= test.t && end > test.t;
    case 'todo-duration': return start <= test.e && (end > test.s || end >= test.e);
    case 'todo-due': return (start < test.e || start <= test.s) && (end > test.s || end >= test.e);
    case 'todo-due-only': return start < test.t && end >= test.t;
    case 'todo-created-completed': return (start <= test.a || start <= test.b) && (end >= test.a || end >= test.b);
    case 'todo-completed': return start <= test.t && end >= test.t;
    case 'todo-created': return end > test.t;
    case 'freebusy': return start <= test.e && end > test.s;
    case 'periods': return test.periods.some(([ps, pe]) => start < pe && end > ps);
    case 'always': return true;
    case 'never': return false;
  }
}

/** One instance: its span in UTC ms (end ≥ start) and the condition a time range must meet. */
export interface InstanceShape {
  readonly startMs: number;
  readonly endMs: number;
  readonly test: RangeTest;
}

function timeValue(component: ICAL.Component, name: string): ICAL.Time | null {
  const value = component.getFirstPropertyValue(name);
  return value instanceof ICAL.Time ? value : null;
}

function durationValue(component: ICAL.Component): ICAL.Duration | null {
  const value = component.getFirstPropertyValue('duration');
  return value instanceof ICAL.Duration ? value : null;
}

/**
 * The end (ms) of the instance starting at `start` whose length comes from `dtstart` → `end` (DTEND
 * or DUE): a whole number of days when both are DATEs, otherwise the same exact duration for every
 * instance (RFC 5545 §3.8.5.3).
 */
function endFromPair(start: ICAL.Time, startMs: number, dtstart: ICAL.Time, end: ICAL.Time, zone?: ICAL.Timezone): number {
  if (dtstart.isDate && end.isDate && start.isDate) return toUtcMs(addDays(start, daysBetween(dtstart, end)), zone);
  return startMs + toUtcMs(end, zone) - toUtcMs(dtstart, zone);
}

/**
 * The shape of the instance of `component` that starts at `start` (its DTSTART, a recurrence start,
 * or an RDATE). `periodEndMs` is the end an RDATE PERIOD gives that instance; it then counts as the
 * instance's DTEND (VTODO: DUE).
 */
export function instanceShape(component: ICAL.Component, start: ICAL.Time, zone?: ICAL.Timezone, periodEndMs?: number): InstanceShape {
  const dtstart = timeValue(component, 'dtstart');
  const startMs = toUtcMs(start, zone);
  switch (component.name) {
    case 'vtodo': return todoShape(component, dtstart === null ? null : start, startMs, dtstart, zone, periodEndMs);
    case 'vjournal': {
      if (dtstart === null) return { startMs, endMs: startMs, test: { kind: 'never' } };
      if (!start.isDate) return { startMs, endMs: startMs, test: { kind: 'instant', t: startMs } };
      const endMs = toUtcMs(addDays(start, 1), zone);
      return { startMs, endMs, test: { kind: 'overlap', s: startMs, e: endMs } };
    }
    case 'vfreebusy': return freeBusyShape(component, startMs, dtstart, zone);
    case 'vavailability': {
      const from = dtstart === null ? -Infinity : startMs;
      const endMs = eventEnd(component, start, startMs, dtstart, zone, periodEndMs) ?? Infinity;
      return { startMs: from, endMs, test: { kind: 'overlap', s: from, e: endMs } };
    }
    default: {
      const endMs = eventEnd(component, start, startMs, dtstart, zone, periodEndMs);
      if (endMs !== null) {
        // A DURATION of zero seconds or less makes the event instantaneous (§9.9 second row, "N").
        const duration = periodEndMs === undefined ? durationValue(component) : null;
        if (duration !== null && duration.toSeconds() <= 0) return { startMs, endMs: startMs, test: { kind: 'instant', t: startMs } };
        return { startMs, endMs: Math.max(endMs, startMs), test: { kind: 'overlap', s: startMs, e: endMs } };
      }
      if (start.isDate) {
        const dayEnd = toUtcMs(addDays(start, 1), zone);
        return { startMs, endMs: dayEnd, test: { kind: 'overlap', s: startMs, e: dayEnd } };
      }
      return { startMs, endMs: startMs, test: { kind: 'instant', t: startMs } };
    }
  }
}

/** VEVENT-style end: PERIOD end, DTEND, or DTSTART + DURATION; null when the component gives none. */
function eventEnd(component: ICAL.Component, start: ICAL.Time, startMs: number, dtstart: ICAL.Time | null, zone?: ICAL.Timezone, periodEndMs?: number): number | null {
  if (periodEndMs !== undefined) return periodEndMs;
  const dtend = timeValue(component, 'dtend');
  if (dtend !== null) return dtstart === null ? toUtcMs(dtend, zone) : endFromPair(start, startMs, dtstart, dtend, zone);
  const duration = durationValue(component);
  return duration === null ? null : durationEndMs(start, duration, zone);
}

/** The VTODO rows of RFC 4791 §9.9. `start` is null when the VTODO has no DTSTART. */
function todoShape(component: ICAL.Component, start: ICAL.Time | null, startMs: number, dtstart: ICAL.Time | null, zone?: ICAL.Timezone, periodEndMs?: number): InstanceShape {
  const due = timeValue(component, 'due');
  if (start !== null && dtstart !== null) {
    const duration = durationValue(component);
    if (periodEndMs === undefined && duration !== null) {
      const e = durationEndMs(start, duration, zone);
      return { startMs, endMs: Math.max(e, startMs), test: { kind: 'todo-duration', s: startMs, e } };
    }
    if (periodEndMs !== undefined || due !== null) {
      const e = periodEndMs ?? endFromPair(start, startMs, dtstart, due as ICAL.Time, zone);
      return { startMs, endMs: Math.max(e, startMs), test: { kind: 'todo-due', s: startMs, e } };
    }
    return { startMs, endMs: startMs, test: { kind: 'instant', t: startMs } };
  }
  if (due !== null) {
    const t = toUtcMs(due, zone);
    return { startMs: t, endMs: t, test: { kind: 'todo-due-only', t } };
  }
  const completed = timeValue(component, 'completed');
  const created = timeValue(component, 'created');
  const a = created === null ? null : toUtcMs(created, zone);
  const b = completed === null ? null : toUtcMs(completed, zone);
  if (a !== null && b !== null) return { startMs: Math.min(a, b), endMs: Math.max(a, b), test: { kind: 'todo-created-completed', a, b } };
  if (b !== null) return { startMs: b, endMs: b, test: { kind: 'todo-completed', t: b } };
  if (a !== null) return { startMs: a, endMs: a, test: { kind: 'todo-created', t: a } };
  return { startMs: -Infinity, endMs: Infinity, test: { kind: 'always' } };
}

function freeBusyShape(component: ICAL.Component, startMs: number, dtstart: ICAL.Time | null, zone?: ICAL.Timezone): InstanceShape {
  const dtend = timeValue(component, 'dtend');
  if (dtstart !== null && dtend !== null) {
    const e = toUtcMs(dtend, zone);
    return { startMs, endMs: Math.max(e, startMs), test: { kind: 'freebusy', s: startMs, e } };
  }
  const periods: [number, number][] = [];
  for (const property of component.getAllProperties('freebusy')) {
    for (const value of property.getValues() as unknown[]) {
      if (value instanceof ICAL.Period) periods.push([toUtcMs(value.start, zone), toUtcMs(value.getEnd(), zone)]);
    }
  }
  if (periods.length === 0) return { startMs, endMs: startMs, test: { kind: 'never' } };
  const from = Math.min(...periods.map(([s]) => s));
  const to = Math.max(...periods.map(([, e]) => e));
  return { startMs: from, endMs: Math.max(to, from), test: { kind: 'periods', periods } };
}
