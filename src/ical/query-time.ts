// Small time helpers the query code shares (filter, calendar-data, free-busy): the RFC 4791 §9.9
// overlap test on UTC milliseconds and UTC formatting. Imports nothing of ours outside src/ical.
import type ICAL from 'ical.js';
import { toUtcMs } from './occurrences.ts';
import type { TimeRange } from './types.ts';

/** A range whose bounds are always given, as calendar-data and free-busy use them. */
export interface BoundedRange {
  readonly start: number;
  readonly end: number;
}

/** Whether instant `t` lies in [start, end) (an unbounded side always holds). */
export function instantInRange(t: number, range: TimeRange | BoundedRange): boolean {
  return (range.start === null || range.start <= t) && (range.end === null || t < range.end);
}

/**
 * RFC 4791 §9.9: an interval [startMs, endMs) overlaps when (start < end-of-interval) AND
 * (end > start-of-interval); a zero-length one when its instant lies in the range.
 */
export function intervalOverlaps(startMs: number, endMs: number, range: TimeRange | BoundedRange): boolean {
  if (endMs <= startMs) return instantInRange(startMs, range);
  return (range.end === null || startMs < range.end) && (range.start === null || endMs > range.start);
}

/** Start and end of a PERIOD value (explicit end or start + duration) in UTC ms. */
export function periodMs(period: ICAL.Period, floatingZone?: ICAL.Timezone): [number, number] {
  return [toUtcMs(period.start, floatingZone), toUtcMs(period.getEnd(), floatingZone)];
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A UTC DATE-TIME in jCal form (RFC 7265 §3.6.5), whole seconds: 2024-01-02T03:04:05Z. */
export function utcJCal(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}
