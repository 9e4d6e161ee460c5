// RFC 4791 §9.7 calendar-query filter evaluation against one parsed calendar object, including the
// §9.9 time-range rules. Imports nothing of ours outside src/ical (no DAV, XML or store code).
import ICAL from 'ical.js';
import { expandOccurrences, toUtcMs } from './occurrences.ts';
import type { ExpansionResult } from './occurrences.ts';
import { instantInRange, intervalOverlaps, periodMs } from './query-time.ts';
import { textMatches } from './text-match.ts';
import type { CompFilter, Occurrence, ParamFilter, PropFilter, QueryOptions, TextMatch, TimeRange } from './types.ts';

/** Components whose time-range test is per recurrence instance (RFC 4791 §9.9). */
const INSTANCE_TYPES: ReadonlySet<string> = new Set(['vevent', 'vtodo', 'vjournal']);

interface Scope {
  readonly vcalendar: ICAL.Component;
  readonly options: QueryOptions | undefined;
  /** The instance of the enclosing VEVENT/VTODO/VJOURNAL being tested, when the test is per instance. */
  readonly occurrence: Occurrence | null;
  /** Set after a truncated expansion: every time-range test passes, so a possible match is kept. */
  readonly lenient: boolean;
  /** Expansions already computed for this object, by window. */
  readonly expansions: Map<string, ExpansionResult>;
}

/**
 * Whether the calendar object `vcalendar` matches `filter`, the root comp-filter (RFC 4791 §9.7.1;
 * its name is VCALENDAR). A time-range on the root is ignored: the caller rejects it.
 *
 * Conservative on resource limits: when expanding a recurrence hits `options.maxInstances` or its time
 * budget (options.timeBudgetMs, default FILTER_TIME_BUDGET_MS) before an instance matched, the time-range is treated as
 * matching (prop-filters are still applied), so an object that might match is never dropped.
 */
export function matchesFilter(vcalendar: ICAL.Component, filter: CompFilter, options?: QueryOptions): boolean {
  const scope: Scope = { vcalendar, options, occurrence: null, lenient: false, expansions: new Map() };
  if (filter.name.toLowerCase() !== vcalendar.name) return filter.isNotDefined;
  if (filter.isNotDefined) return false;
  return contentMatches(vcalendar, filter, scope);
}

/** The prop-filters and nested comp-filters of `filter`, all ANDed (§9.7.1). */
function contentMatches(component: ICAL.Component, filter: CompFilter, scope: Scope): boolean {
  return filter.propFilters.every((pf) => propFilterMatches(component, pf, scope))
    && filter.compFilters.every((cf) => compFilterMatches(component, cf, scope));
}

/** §9.7.1: a comp-filter matches if some child component of its name satisfies all its conditions. */
function compFilterMatches(parent: ICAL.Component, filter: CompFilter, scope: Scope): boolean {
  const name = filter.name.toLowerCase();
  const candidates = parent.getAllSubcomponents(name);
  if (filter.isNotDefined) return candidates.length === 0;
  if (candidates.length === 0) return false;
  if (INSTANCE_TYPES.has(name) && parent.name === 'vcalendar') return instancesMatch(name, candidates, filter, scope);
  const range = filter.timeRange;
  return candidates.some((candidate) =>
    (range === undefined || scope.lenient || componentOverlaps(candidate, parent, range, scope))
    && contentMatches(candidate, filter, scope));
}

/**
 * VEVENT/VTODO/VJOURNAL. With a time-range the test is per instance (§9.9: "every recurrence instance"),
 * and the instance's own component (master or override) must also satisfy the prop- and comp-filters,
 * so an override moved out of the range does not match and one moved into it does. Without a
 * time-range any of the components (master or overrides) may satisfy the filter.
 */
function instancesMatch(name: string, candidates: readonly ICAL.Component[], filter: CompFilter, scope: Scope): boolean {
  const range = filter.timeRange;
  if (range === undefined || scope.lenient) return candidates.some((c) => contentMatches(c, filter, scope));
  // A few instances first: one that satisfies the filter settles it, and a dense rule (an instance
  // every second) then costs no more than a sparse one.
  for (const cap of [PROBE_INSTANCES, undefined]) {
    const expansion = expand(range, scope, cap);
    for (const occurrence of expansion.occurrences) {
      if (occurrence.component.name !== name) continue;
      if (contentMatches(occurrence.component, filter, { ...scope, occurrence })) return true;
    }
    if (!expansion.truncated) return false;
  }
  return candidates.some((c) => contentMatches(c, filter, { ...scope, lenient: true }));
}

/** Instances drawn per master before the full expansion is tried. */
const PROBE_INSTANCES = 64;
/**
 * CPU (ms) a filter's expansion of one object may take: past it the object is kept (lenient), which
 * costs precision only, so a calendar of hostile rules is answered before the report's work limit.
 */
const FILTER_TIME_BUDGET_MS = 20;

/** The object's instances in `range`, at most `cap` drawn per master (default: the query's cap). */
function expand(range: TimeRange, scope: Scope, cap?: number): ExpansionResult {
  const timeBudgetMs = scope.options?.timeBudgetMs ?? FILTER_TIME_BUDGET_MS;
  const options: QueryOptions = { ...scope.options, timeBudgetMs, ...(cap === undefined ? {} : { maxInstances: Math.min(cap, scope.options?.maxInstances ?? cap) }) };
  const key = `${range.start ?? '-'}/${range.end ?? '-'}/${cap ?? ''}`;
  let result = scope.expansions.get(key);
  if (result === undefined) {
    result = expandOccurrences(scope.vcalendar, range, options);
    scope.expansions.set(key, result);
  }
  return result;
}

/** Time-range test for components other than VEVENT/VTODO/VJOURNAL. */
function componentOverlaps(component: ICAL.Component, parent: ICAL.Component, range: TimeRange, scope: Scope): boolean {
  switch (component.name) {
    case 'valarm':
      return alarmOverlaps(component, parent, range, scope);
    case 'vfreebusy':
      return freeBusyOverlaps(component, range, scope);
    default:
      return genericOverlaps(component, range, scope);
  }
}

function timeMs(component: ICAL.Component, property: string, scope: Scope): number | null {
  const value = component.getFirstPropertyValue(property);
  return value instanceof ICAL.Time ? toUtcMs(value, scope.options?.floatingZone) : null;
}

/**
 * §9.9 VFREEBUSY: with DTSTART and DTEND, (start <= DTEND) AND (end > DTSTART); otherwise each
 * FREEBUSY period of any FBTYPE is compared; with neither the component never overlaps. DURATION is
 * ignored as the RFC says.
 */
function freeBusyOverlaps(component: ICAL.Component, range: TimeRange, scope: Scope): boolean {
  const start = timeMs(component, 'dtstart', scope);
  const end = timeMs(component, 'dtend', scope);
  if (start !== null && end !== null) {
    return (range.start === null || range.start <= end) && (range.end === null || start < range.end);
  }
  for (const property of component.getAllProperties('freebusy')) {
    for (const value of property.getValues()) {
      if (!(value instanceof ICAL.Period)) continue;
      const [pStart, pEnd] = periodMs(value, scope.options?.floatingZone);
      if ((range.end === null || pStart < range.end) && (range.start === null || pEnd > range.start)) return true;
    }
  }
  return false;
}

/**
 * Components §9.9 does not cover (VAVAILABILITY, AVAILABLE, ...), read the RFC 7953 §3.1 way: a missing
 * DTSTART starts at -infinity, a missing DTEND/DURATION ends at +infinity; a DATE DTSTART with neither
 * lasts one day.
 */
function genericOverlaps(component: ICAL.Component, range: TimeRange, scope: Scope): boolean {
  const zone = scope.options?.floatingZone;
  const dtstart = component.getFirstPropertyValue('dtstart');
  const startTime = dtstart instanceof ICAL.Time ? dtstart : null;
  const start = startTime === null ? -Infinity : toUtcMs(startTime, zone);
  let end = Infinity;
  const dtend = component.getFirstPropertyValue('dtend');
  const duration = component.getFirstPropertyValue('duration');
  if (dtend instanceof ICAL.Time) end = toUtcMs(dtend, zone);
  else if (startTime !== null && (duration instanceof ICAL.Duration || startTime.isDate)) {
    const endTime = startTime.clone();
    endTime.addDuration(duration instanceof ICAL.Duration ? duration : ICAL.Duration.fromData({ days: 1 }));
    end = toUtcMs(endTime, zone);
  }
  return intervalOverlaps(start, end, range);
}

/**
 * §9.9 VALARM: (start <= trigger-time) AND (end > trigger-time), for any of the REPEAT repetitions.
 * A relative TRIGGER is taken from each instance of the parent component (its start, or its end
 * with RELATED=END, RFC 5545 §3.8.6.3); an absolute one is used as is.
 */
function alarmOverlaps(alarm: ICAL.Component, parent: ICAL.Component, range: TimeRange, scope: Scope): boolean {
  const trigger = alarm.getFirstProperty('trigger');
  const value = trigger?.getFirstValue();
  if (trigger === null || trigger === undefined || value === null || value === undefined) return false;
  const repeatValue = alarm.getFirstPropertyValue('repeat');
  const repeatDuration = alarm.getFirstPropertyValue('duration');
  const repeat = typeof repeatValue === 'number' && repeatValue > 0 && repeatDuration instanceof ICAL.Duration ? repeatValue : 0;
  const interval = repeat > 0 && repeatDuration instanceof ICAL.Duration ? Math.abs(repeatDuration.toSeconds() * 1000) : 0;
  if (value instanceof ICAL.Time) {
    return seriesHits(toUtcMs(value, scope.options?.floatingZone), repeat, interval, range);
  }
  if (!(value instanceof ICAL.Duration)) return false;
  const offset = value.toSeconds() * 1000;
  const related = String(trigger.getFirstParameter('related') ?? 'START').toUpperCase() === 'END' ? 'end' : 'start';
  const current = scope.occurrence;
  if (current !== null && sameComponent(current.component, parent)) {
    return seriesHits((related === 'end' ? current.endMs : current.startMs) + offset, repeat, interval, range);
  }
  if (!INSTANCE_TYPES.has(parent.name)) return false;
  // No instance at hand (the parent comp-filter had no time-range): expand the parent over the alarm
  // range shifted back by everything the trigger can add; one more ms keeps the bounds inclusive.
  const reach = Math.abs(offset) + repeat * interval + 1;
  const window: TimeRange = {
    start: range.start === null ? null : range.start - reach,
    end: range.end === null ? null : range.end + reach,
  };
  const expansion = expand(window, scope);
  for (const occurrence of expansion.occurrences) {
    if (!sameComponent(occurrence.component, parent)) continue;
    const base = related === 'end' ? occurrence.endMs : occurrence.startMs;
    if (seriesHits(base + offset, repeat, interval, range)) return true;
  }
  return expansion.truncated;
}

function sameComponent(a: ICAL.Component, b: ICAL.Component): boolean {
  return a === b || a.jCal === b.jCal;
}

/** Whether any of first, first+interval, ..., first+repeat*interval lies in [start, end). */
function seriesHits(first: number, repeat: number, interval: number, range: TimeRange): boolean {
  let k = 0;
  if (repeat > 0 && interval > 0 && range.start !== null && first < range.start) {
    k = Math.ceil((range.start - first) / interval);
    if (k > repeat) return false;
  }
  return instantInRange(first + k * interval, range);
}

/**
 * §9.7.2: is-not-defined → no such property; otherwise some property of the name satisfies the
 * time-range, the text-match and every param-filter (§9.7.3) together.
 */
function propFilterMatches(component: ICAL.Component, filter: PropFilter, scope: Scope): boolean {
  const properties = component.getAllProperties(filter.name.toLowerCase());
  if (filter.isNotDefined) return properties.length === 0;
  const { timeRange, textMatch } = filter;
  return properties.some((property) =>
    (timeRange === undefined || scope.lenient || propertyOverlaps(component, property, timeRange, scope))
    && (textMatch === undefined || propertyTextMatches(property, textMatch))
    && filter.paramFilters.every((pf) => paramFilterMatches(property, pf)));
}

/**
 * §9.9 on a property: a DATE-TIME value overlaps when (start <= value) AND (end > value); a DATE value
 * is the whole day in the floating zone; a PERIOD overlaps like an event. Any value of a multi-valued
 * property may match. In a per-instance test DTSTART is the instance's start, and DTEND/DUE move with
 * it; otherwise (no time-range on the enclosing component) the stored value is used.
 */
function propertyOverlaps(component: ICAL.Component, property: ICAL.Property, range: TimeRange, scope: Scope): boolean {
  const zone = scope.options?.floatingZone;
  let shift = 0;
  const current = scope.occurrence;
  if (current !== null && sameComponent(current.component, component)) {
    if (property.name === 'dtstart') return timeOverlaps(current.start, 0, range, scope);
    const dtstart = component.getFirstPropertyValue('dtstart');
    if ((property.name === 'dtend' || property.name === 'due') && dtstart instanceof ICAL.Time) {
      shift = current.startMs - toUtcMs(dtstart, zone);
    }
  }
  return property.getValues().some((value: unknown) => {
    if (value instanceof ICAL.Time) return timeOverlaps(value, shift, range, scope);
    if (value instanceof ICAL.Period) {
      const [start, end] = periodMs(value, zone);
      return intervalOverlaps(start, end, range);
    }
    return false;
  });
}

function timeOverlaps(time: ICAL.Time, shift: number, range: TimeRange, scope: Scope): boolean {
  const zone = scope.options?.floatingZone;
  const start = toUtcMs(time, zone) + shift;
  if (!time.isDate) return instantInRange(start, range);
  const next = time.clone();
  next.adjust(1, 0, 0, 0);
  return intervalOverlaps(start, toUtcMs(next, zone) + shift, range);
}

/** §9.7.5 on a property: its value as text; any value of a multi-valued property (CATEGORIES) may match. */
function propertyTextMatches(property: ICAL.Property, match: TextMatch): boolean {
  const values: unknown[] = property.getValues();
  if (values.length === 0) return textMatches('', match);
  return values.some((value) => textMatches(valueText(value), match));
}

/** The text form of a property value: TEXT as unescaped, other types in their iCalendar form. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(valueText).join(';');
  if (typeof value === 'object' && value !== null && 'toICALString' in value && typeof value.toICALString === 'function') {
    return String((value.toICALString as () => unknown).call(value));
  }
  return String(value);
}

/** §9.7.3: is-not-defined → no such parameter; else it exists and (if given) a value text-matches. */
function paramFilterMatches(property: ICAL.Property, filter: ParamFilter): boolean {
  const raw = property.getParameter(filter.name.toLowerCase()) as string | string[] | undefined;
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (filter.isNotDefined) return values.length === 0;
  if (values.length === 0) return false;
  const match = filter.textMatch;
  return match === undefined || values.some((value) => textMatches(value, match));
}
