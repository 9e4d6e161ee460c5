// The recurrence engine every query uses: the instances of a calendar object's VEVENT/VTODO/VJOURNAL
// (and VFREEBUSY/VAVAILABILITY) that meet a time range under RFC 4791 §9.9, overrides applied.
// Imports nothing of ours outside src/ical.
import ICAL from 'ical.js';
import { hasRecurrence, mainComponentType, recurrenceSet } from './occurrence-set.ts';
import { instanceShape, rangeSatisfies, toUtcMs } from './occurrence-time.ts';
import { DEFAULT_MAX_INSTANCES, DEFAULT_TIME_BUDGET_MS } from './types.ts';
import type { Occurrence, QueryOptions, TimeRange } from './types.ts';

export { toUtcMs } from './occurrence-time.ts';

const DAY_MS = 86_400_000;

/**
 * Slack on an instance's length for the instances that may reach into a range: none when every
 * instance lasts exactly as long as the first (DATE-TIME start, DTEND/DUE or a DURATION in hours,
 * minutes and seconds: RFC 5545 §3.8.5.3); two days when nominal days are involved (a DATE start, or a
 * DURATION in days or weeks), whose length changes with DST.
 */
function lengthSlackMs(master: ICAL.Component, dtstart: ICAL.Time): number {
  if (dtstart.isDate) return 2 * DAY_MS;
  const duration = master.getFirstPropertyValue('duration');
  return duration instanceof ICAL.Duration && (duration.days !== 0 || duration.weeks !== 0) ? 2 * DAY_MS : 0;
}

export interface ExpansionResult {
  readonly occurrences: Occurrence[];
  /** True when the instance cap or work budget stopped expansion before the range was covered. */
  readonly truncated: boolean;
}

/**
 * The span of the instance of `component` that starts at `start` (its DTSTART or a recurrence start),
 * floating values in options.floatingZone. The end follows RFC 5545 §3.8.5.3 and the RFC 4791 §9.9
 * tables: DTEND (DUE for VTODO) gives every instance the same exact duration (whole days when both
 * are DATEs); DURATION is nominal for days and weeks and exact below; with neither, a DATE lasts one
 * day and a DATE-TIME is instantaneous. A VTODO without DTSTART spans [DUE, DUE], else its CREATED /
 * COMPLETED, else (-Infinity, +Infinity) — `start` is then not used.
 */
export function instanceEnd(component: ICAL.Component, start: ICAL.Time, options?: QueryOptions): { startMs: number; endMs: number } {
  const shape = instanceShape(component, start, options?.floatingZone);
  return { startMs: shape.startMs, endMs: shape.endMs };
}

/** A stand-in start for components without DTSTART (VTODO, VJOURNAL, VFREEBUSY, VAVAILABILITY). */
function nominalStart(component: ICAL.Component): ICAL.Time {
  for (const name of ['dtstart', 'due', 'completed', 'created', 'dtstamp']) {
    const value = component.getFirstPropertyValue(name);
    if (value instanceof ICAL.Time) return value;
  }
  return ICAL.Time.epochTime.clone();
}

/**
 * Every instance of the object's main component that meets `range` per RFC 4791 §9.9, sorted by
 * start. Overrides (RECURRENCE-ID) replace the instance they name, wherever they move it: the
 * master's instance at that RECURRENCE-ID is dropped (even if an override moves it out of the range)
 * and the override is tested on its own DTSTART/DTEND/DURATION/DUE. An override whose RECURRENCE-ID
 * the rules do not produce still stands for itself. RANGE=THISANDFUTURE is read as an override of the
 * one instance it names: later instances are not shifted (clients rarely send it; CalDAV servers
 * commonly store the split series instead).
 *
 * Bounded: at most options.maxInstances (default DEFAULT_MAX_INSTANCES) values are drawn from the
 * rules per master, the search between them is budgeted, and the whole object may take
 * options.timeBudgetMs (default DEFAULT_TIME_BUDGET_MS); when any limit stops expansion before
 * range.end (or, with an unbounded end, before the rules end), `truncated` is true and the instances
 * found so far are returned. Expansion stops at the first instance starting after range.end. Rules
 * start shortly before range.start rather than at DTSTART where that yields the same instances:
 * SECONDLY/MINUTELY/HOURLY rules by arithmetic (with COUNT too when they have no BYxxx part),
 * DAILY/WEEKLY ones without COUNT/BYSETPOS by moving DTSTART (a daily event since 1980 costs the same as
 * one since last month, a SECONDLY one since 1970 the same as one since this morning).
 */
export function expandOccurrences(vcalendar: ICAL.Component, range: TimeRange, options?: QueryOptions): ExpansionResult {
  const type = mainComponentType(vcalendar);
  if (type === null) return { occurrences: [], truncated: false };
  const zone = options?.floatingZone;
  const maxInstances = options?.maxInstances ?? DEFAULT_MAX_INSTANCES;
  const deadline = performance.now() + (options?.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS);
  const components = vcalendar.getAllSubcomponents(type);
  const masters = components.filter((c) => !c.hasProperty('recurrence-id'));
  const overrides = components.filter((c) => c.hasProperty('recurrence-id'));
  const occurrences: Occurrence[] = [];
  let truncated = false;

  const overridden = new Set<number>();
  for (const override of overrides) {
    const recurrenceId = override.getFirstPropertyValue('recurrence-id');
    if (!(recurrenceId instanceof ICAL.Time)) continue;
    overridden.add(toUtcMs(recurrenceId, zone));
    const dtstart = override.getFirstPropertyValue('dtstart');
    const start = dtstart instanceof ICAL.Time ? dtstart : recurrenceId;
    const shape = instanceShape(override, start, zone);
    if (rangeSatisfies(shape.test, range)) {
      occurrences.push({ component: override, startMs: shape.startMs, endMs: shape.endMs, start, recurrenceId, test: shape.test });
    }
  }

  for (const master of masters) {
    const dtstart = master.getFirstPropertyValue('dtstart');
    if (!(dtstart instanceof ICAL.Time) || (!hasRecurrence(master) && overrides.length === 0)) {
      const start = dtstart instanceof ICAL.Time ? dtstart : nominalStart(master);
      const shape = instanceShape(master, start, zone);
      if (rangeSatisfies(shape.test, range)) {
        occurrences.push({ component: master, startMs: shape.startMs, endMs: shape.endMs, start, recurrenceId: null, test: shape.test });
      }
      continue;
    }
    // Rule instances starting before this cannot reach the range: their length, plus slack where nominal
    // days make lengths vary (slack costs iterations: a day of it is 86,400 values of a SECONDLY rule).
    const first = instanceShape(master, dtstart, zone);
    const reach = first.endMs - first.startMs + lengthSlackMs(master, dtstart);
    const notBefore = range.start !== null && Number.isFinite(reach) ? range.start - reach : undefined;
    const set = recurrenceSet(master, zone, notBefore === undefined ? { maxIterations: maxInstances, deadline } : { maxIterations: maxInstances, notBefore, deadline });
    const end = range.end ?? Infinity;
    for (let member = set.next(); member !== null; member = set.next()) {
      if (member.ms > end) break;
      // Members this early cannot reach the range (only rules that cannot start late draw them).
      if (notBefore !== undefined && member.ms < notBefore && member.periodEndMs === undefined) continue;
      if (overridden.has(member.ms)) continue;
      const shape = instanceShape(master, member.time, zone, member.periodEndMs);
      if (rangeSatisfies(shape.test, range)) {
        occurrences.push({ component: master, startMs: shape.startMs, endMs: shape.endMs, start: member.time, recurrenceId: member.time, test: shape.test });
      }
    }
    if (set.truncated) truncated = true;
  }

  occurrences.sort((a, b) => compare(a.startMs, b.startMs) || compare(a.endMs, b.endMs));
  return { occurrences, truncated };
}

function compare(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
