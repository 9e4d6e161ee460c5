// Index bounds of a calendar object: the earliest and latest instant any RFC 4791 §9.9 time-range
// test on it can depend on, so a query only parses objects whose bounds meet its range. Conservative
// by design. Imports nothing of ours outside src/ical.
import ICAL from 'ical.js';
import { expandOccurrences } from './occurrences.ts';
import { hasRecurrence, mainComponentType, recurrenceSet } from './occurrence-set.ts';
import { instanceShape, isFloating, toUtcMs } from './occurrence-time.ts';
import type { InstanceShape, RangeTest } from './occurrence-time.ts';
import { DEFAULT_MAX_INSTANCES } from './types.ts';

/** Floating times mean different instants in different zones; UTC-12 to UTC+14 is within 14 h either way. */
const FLOATING_SLACK_MS = 14 * 3_600_000;
/** A nominal day can be 25 h (or more where a zone shifted by 2 h): slack for bounds derived from UNTIL. */
const NOMINAL_SLACK_MS = 3 * 3_600_000;

interface Extent {
  lo: number;
  hi: number;
}

/**
 * [firstStart, lastEnd] in UTC ms over every instance of the object's main component, or null for an
 * unbounded side. Use it as a closed interval: an object can only match a time-range [start, end)
 * when firstStart <= end and lastEnd >= start (several §9.9 rows compare with <= and >=).
 *
 * - Every master instance counts: DTSTART, RRULE (bounded by UNTIL, or by expanding a COUNT rule
 *   — more than options.maxInstances iterations give lastEnd null), RDATE; EXDATE is ignored.
 *   A rule with neither COUNT nor UNTIL gives lastEnd null.
 * - Every override counts with its own start and end: it can move an instance anywhere.
 * - VALARM: a relative TRIGGER before the start (or after the end, plus REPEAT × DURATION) widens
 *   the bounds, as do absolute triggers, so VALARM time-range queries are not lost.
 * - Any floating DATE-TIME or DATE widens both sides by 14 h.
 * - A VTODO with none of DTSTART, DUE, COMPLETED, CREATED matches every range: null/null; with only
 *   CREATED it matches every range ending after it: lastEnd null. A VJOURNAL without DTSTART (it never
 *   matches) and a VFREEBUSY without DTSTART/DTEND and FREEBUSY also give null/null.
 */
export function objectBounds(vcalendar: ICAL.Component, options?: { maxInstances?: number }): { firstStart: number | null; lastEnd: number | null } {
  const type = mainComponentType(vcalendar);
  if (type === null) return { firstStart: null, lastEnd: null };
  const maxInstances = options?.maxInstances ?? DEFAULT_MAX_INSTANCES;
  const total: Extent = { lo: Infinity, hi: -Infinity };
  let floating = false;
  for (const component of vcalendar.getAllSubcomponents(type)) {
    const extent = componentExtent(component, maxInstances);
    total.lo = Math.min(total.lo, extent.lo);
    total.hi = Math.max(total.hi, extent.hi);
    if (hasFloatingTime(component)) floating = true;
  }
  if (total.lo > total.hi) return { firstStart: null, lastEnd: null };
  const slack = floating ? FLOATING_SLACK_MS : 0;
  return {
    firstStart: Number.isFinite(total.lo) ? total.lo - slack : null,
    lastEnd: Number.isFinite(total.hi) ? total.hi + slack : null,
  };
}

/** Instances a recurring object may have for instanceExtents to describe it instance by instance. */
export const MAX_EXTENT_INSTANCES = 64;

/** CPU (ms) instanceSummary may spend expanding one object; past it the object is not summarised. */
const SUMMARY_TIME_BUDGET_MS = 20;

/** What instanceSummary tells of an object's instances. */
export interface InstanceSummary {
  /**
   * The closed intervals, one per instance of the main component (overrides applied, EXDATEs dropped),
   * outside which no RFC 4791 §9.9 test of that instance can hold, as [lo0, hi0, lo1, hi1, ...] in UTC
   * ms. A time-range comp-filter on the main component can only match when some interval meets the
   * range: for a recurring object this rules out the windows between its instances, which its overall
   * bounds (objectBounds) cannot.
   */
  readonly extents: Float64Array;
  /** Each instance's exact §9.9 test: a range meets the object exactly when it satisfies one of them. */
  readonly tests: readonly RangeTest[];
  /** Whether a floating value or DATE made the instants depend on the zone they were read in. */
  readonly floating: boolean;
}

/**
 * The instances of the object's main component, floating values read in `floatingZone` (UTC when
 * absent, as queries do), summarised for time-range tests that need not parse the object again. null
 * when they cannot be told exactly: more than maxInstances instances, an unbounded rule, an instance
 * without bounds, or expansion stopped by its time budget.
 */
export function instanceSummary(vcalendar: ICAL.Component, maxInstances = MAX_EXTENT_INSTANCES, floatingZone?: ICAL.Timezone): InstanceSummary | null {
  const type = mainComponentType(vcalendar);
  if (type === null) return null;
  // The filter's own budget per object (src/ical/filter.ts): a rule that yields nothing for a long
  // search costs no more here than in the query that parsed it.
  const budget = { maxInstances: maxInstances + 1, timeBudgetMs: SUMMARY_TIME_BUDGET_MS };
  const options = floatingZone === undefined ? budget : { ...budget, floatingZone };
  const expansion = expandOccurrences(vcalendar, { start: null, end: null }, options);
  if (expansion.truncated || expansion.occurrences.length > maxInstances) return null;
  const extents = new Float64Array(expansion.occurrences.length * 2);
  let i = 0;
  for (const occurrence of expansion.occurrences) {
    const extent = testExtent({ startMs: occurrence.startMs, endMs: occurrence.endMs, test: occurrence.test });
    if (!Number.isFinite(extent.lo) || !Number.isFinite(extent.hi)) return null;
    extents[i++] = extent.lo;
    extents[i++] = extent.hi;
  }
  return { extents, tests: expansion.occurrences.map((occurrence) => occurrence.test), floating: vcalendar.getAllSubcomponents(type).some(hasFloatingTime) };
}

/** Whether some interval of an InstanceSummary's extents meets the range (closed, like the index bounds). */
export function extentsMeet(extents: Float64Array, range: { start: number | null; end: number | null }): boolean {
  const start = range.start ?? -Infinity;
  const end = range.end ?? Infinity;
  for (let i = 0; i < extents.length; i += 2) {
    if ((extents[i] as number) <= end && (extents[i + 1] as number) >= start) return true;
  }
  return false;
}

/** The closed interval of range positions a §9.9 test can depend on. */
function testExtent(shape: InstanceShape): Extent {
  const test = shape.test;
  switch (test.kind) {
    case 'overlap': case 'todo-duration': case 'todo-due': case 'freebusy':
      return { lo: Math.min(test.s, test.e), hi: Math.max(test.s, test.e) };
    case 'instant': case 'todo-due-only': case 'todo-completed':
      return { lo: test.t, hi: test.t };
    case 'todo-created-completed':
      return { lo: Math.min(test.a, test.b), hi: Math.max(test.a, test.b) };
    case 'todo-created':
      return { lo: test.t, hi: Infinity };
    case 'periods':
      return { lo: shape.startMs, hi: shape.endMs };
    case 'always': case 'never':
      return { lo: -Infinity, hi: Infinity };
  }
}

function merge(into: Extent, other: Extent): void {
  into.lo = Math.min(into.lo, other.lo);
  into.hi = Math.max(into.hi, other.hi);
}

function componentExtent(component: ICAL.Component, maxInstances: number): Extent {
  const dtstart = component.getFirstPropertyValue('dtstart');
  if (!(dtstart instanceof ICAL.Time)) {
    const shape = instanceShape(component, ICAL.Time.epochTime.clone());
    const extent = testExtent(shape);
    widenForAlarms(component, extent);
    return extent;
  }
  const first = instanceShape(component, dtstart);
  const extent = testExtent(first);
  const span = extent.hi - first.startMs;
  if (hasRecurrence(component) && !component.hasProperty('recurrence-id')) {
    for (const property of component.getAllProperties('rdate')) {
      for (const value of property.getValues() as unknown[]) {
        if (value instanceof ICAL.Time) merge(extent, testExtent(instanceShape(component, value)));
        else if (value instanceof ICAL.Period) merge(extent, testExtent(instanceShape(component, value.start, undefined, toUtcMs(value.getEnd()))));
      }
    }
    extent.hi = Math.max(extent.hi, ruleEnd(component, span, maxInstances));
  }
  widenForAlarms(component, extent);
  return extent;
}

/** The latest instant the RRULEs can reach: -Infinity without rules, +Infinity when unbounded. */
function ruleEnd(component: ICAL.Component, span: number, maxInstances: number): number {
  const rules = component.getAllProperties('rrule').map((p) => p.getFirstValue()).filter((r) => r instanceof ICAL.Recur);
  if (rules.length === 0) return -Infinity;
  if (rules.some((rule) => rule.count === null && rule.until === null)) return Infinity;
  if (rules.every((rule) => rule.until !== null)) {
    // No instance starts after UNTIL (RFC 5545 §3.3.10); cheaper than expanding, and still safe.
    const latest = Math.max(...rules.map((rule) => toUtcMs(rule.until as ICAL.Time)));
    return latest + span + NOMINAL_SLACK_MS;
  }
  const set = recurrenceSet(component, undefined, { maxIterations: maxInstances });
  let hi = -Infinity;
  for (let member = set.next(); member !== null; member = set.next()) {
    hi = Math.max(hi, testExtent(instanceShape(component, member.time, undefined, member.periodEndMs)).hi);
  }
  return set.truncated ? Infinity : hi;
}

/**
 * VALARM triggers (RFC 5545 §3.8.6.3): relative ones move the start back by the most negative offset
 * and the end on by the largest positive one plus the repetitions (REPEAT × DURATION); absolute
 * ones count as they are.
 */
function widenForAlarms(component: ICAL.Component, extent: Extent): void {
  let before = 0;
  let after = 0;
  for (const alarm of component.getAllSubcomponents('valarm')) {
    const trigger = alarm.getFirstPropertyValue('trigger');
    const repeat = Number(alarm.getFirstPropertyValue('repeat') ?? 0);
    const interval = alarm.getFirstPropertyValue('duration');
    const repeatMs = interval instanceof ICAL.Duration && Number.isFinite(repeat) ? Math.max(0, repeat) * Math.abs(interval.toSeconds()) * 1000 : 0;
    if (trigger instanceof ICAL.Time) {
      const at = toUtcMs(trigger);
      extent.lo = Math.min(extent.lo, at);
      extent.hi = Math.max(extent.hi, at + repeatMs);
    } else if (trigger instanceof ICAL.Duration) {
      const offset = trigger.toSeconds() * 1000;
      before = Math.min(before, offset);
      after = Math.max(after, offset + repeatMs);
    }
  }
  extent.lo += before;
  extent.hi += after;
}

/** Properties whose values decide when a component (or its alarm) happens. */
const TIME_PROPERTIES: ReadonlySet<string> = new Set(['dtstart', 'dtend', 'due', 'duration', 'recurrence-id', 'rdate', 'rrule', 'completed', 'created', 'freebusy', 'trigger']);

/** Whether any value that decides the component's instants (alarms included) is floating or a DATE. */
function hasFloatingTime(component: ICAL.Component): boolean {
  for (const property of component.getAllProperties()) {
    if (!TIME_PROPERTIES.has(property.name)) continue;
    for (const value of property.getValues() as unknown[]) {
      if (value instanceof ICAL.Time && isFloating(value)) return true;
      if (value instanceof ICAL.Period && isFloating(value.start)) return true;
      if (value instanceof ICAL.Recur && value.until !== null && isFloating(value.until)) return true;
    }
  }
  return component.getAllSubcomponents('valarm').some(hasFloatingTime);
}
