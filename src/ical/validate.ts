// The CalDAV calendar object resource rules (RFC 4791 §4.1, §5.3.2.1) on top of RFC 5545 syntax,
// checked when an object is stored, and the metadata the store keeps about it.
// Imports nothing of ours outside src/ical.
import ICAL from 'ical.js';
import { objectBounds } from './bounds.ts';
import { MAIN_TYPES, recurrenceSet } from './occurrence-set.ts';
import { toUtcMs } from './occurrence-time.ts';
import { parseCalendar } from './parse.ts';
import { embeddedTzids, resolveZone, vtimezoneProblem } from './timezones.ts';
import { InvalidCalendarObject } from './types.ts';
import { mayBeBusy } from './freebusy.ts';
import type { CalendarObjectInfo } from './types.ts';

export interface ValidateOptions {
  /** Component names (any case) the calendar accepts (RFC 4791 §5.2.3); all when absent. */
  readonly supportedComponents?: readonly string[];
  /** Instance cap used to compute the index bounds (see objectBounds). */
  readonly maxInstances?: number;
}

function invalid(message: string): InvalidCalendarObject {
  return new InvalidCalendarObject('valid-calendar-data', message);
}

function notResource(message: string): InvalidCalendarObject {
  return new InvalidCalendarObject('valid-calendar-object-resource', message);
}

const upper = (name: string): string => name.toUpperCase();

/**
 * Parses and checks one calendar object resource; returns the VCALENDAR (timezones prepared) and
 * what the store indexes. Throws InvalidCalendarObject, and nothing else, for bad input:
 *
 * - valid-calendar-data: not iCalendar (see parseCalendar); no VERSION:2.0; components in the wrong
 *   place; a value that does not parse as its type (ical.js would silently "normalise" 2012-34-56 or
 *   read garbage as 0, so DATE, DATE-TIME, DURATION, PERIOD, UTC-OFFSET and RECUR values are checked
 *   here); an unusable VTIMEZONE; a TZID that is neither defined in the object nor known
 *   (resolveZone: IANA, Windows, Outlook); a VEVENT without DTSTART (RFC 5545 §3.6.1: required when
 *   there is no METHOD, which a stored object never has); DTEND with DURATION (or DUE with DURATION);
 *   an end before the start; a negative DURATION; a rule or RDATE without DTSTART; a rule ical.js
 *   cannot expand, or one that yields no instances within a bounded trial search (an impossible rule
 *   such as 30 February would otherwise cost every query its whole work budget); a VALARM without
 *   TRIGGER.
 * - valid-calendar-object-resource: a METHOD property (iTIP methods are not allowed in stored objects,
 *   RFC 4791 §4.1); no VEVENT/VTODO/VJOURNAL/VFREEBUSY/VAVAILABILITY; several of those types; a missing
 *   or empty UID; components with different UIDs; several masters (no RECURRENCE-ID) or two overrides
 *   with the same RECURRENCE-ID.
 * - supported-calendar-component: the type is not in options.supportedComponents.
 *
 * Tolerated on purpose, because widespread clients send it: a missing PRODID (RFC 5545 requires it,
 * many clients omit it) or DTSTAMP, empty lines, names in any case, X- and unknown components
 * (ignored), DTEND/DUE value types that differ from DTSTART's, a DATE-TIME property holding only a
 * date (read as DATE), TZIDs without VTIMEZONE that resolveZone maps (Windows, Outlook, Olson-prefixed
 * names), a VTIMEZONE observance with a DATE DTSTART, and a TZID on UTC values. Nothing is repaired:
 * the caller stores the text as sent.
 */
export function validateCalendarObject(text: string, options?: ValidateOptions): { vcalendar: ICAL.Component; info: CalendarObjectInfo } {
  const vcalendar = parseCalendar(text);
  try {
    return { vcalendar, info: check(vcalendar, options ?? {}) };
  } catch (error) {
    if (error instanceof InvalidCalendarObject) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidCalendarObject('valid-calendar-data', `The calendar data could not be read: ${message}`, { cause: error });
  }
}

function check(vcalendar: ICAL.Component, options: ValidateOptions): CalendarObjectInfo {
  checkCalendarProperties(vcalendar);
  checkNesting(vcalendar, null);
  checkVtimezones(vcalendar);
  checkValues(vcalendar);
  checkTzidReferences(vcalendar);
  const { type, uid } = checkResource(vcalendar, options);
  for (const component of vcalendar.getAllSubcomponents(type)) checkComponent(component);
  const bounds = objectBounds(vcalendar, options.maxInstances === undefined ? {} : { maxInstances: options.maxInstances });
  return { uid, componentType: upper(type), firstStart: bounds.firstStart, lastEnd: bounds.lastEnd, mayBeBusy: mayBeBusy(vcalendar) };
}

function checkCalendarProperties(vcalendar: ICAL.Component): void {
  const versions = vcalendar.getAllProperties('version');
  const version = versions[0]?.getFirstValue();
  if (versions.length === 0) throw invalid('VCALENDAR has no VERSION property; RFC 5545 §3.7.4 requires VERSION:2.0.');
  if (versions.length > 1 || typeof version !== 'string' || version.trim() !== '2.0') {
    throw invalid(`VERSION must be 2.0 (RFC 5545 §3.7.4), not "${versions.map((v) => String(v.getFirstValue())).join(', ')}".`);
  }
  const method = vcalendar.getFirstProperty('method');
  if (method !== null) {
    throw notResource(`METHOD:${String(method.getFirstValue())} is an iTIP method; a stored calendar object must not have a METHOD property (RFC 4791 §4.1).`);
  }
}

/** Where RFC 5545 (and RFC 7953) allow each known component; unknown and X- components go anywhere. */
const ALLOWED_PARENTS: Readonly<Record<string, readonly string[]>> = {
  vcalendar: [],
  vevent: ['vcalendar'], vtodo: ['vcalendar'], vjournal: ['vcalendar'], vfreebusy: ['vcalendar'],
  vtimezone: ['vcalendar'], vavailability: ['vcalendar'],
  standard: ['vtimezone'], daylight: ['vtimezone'],
  valarm: ['vevent', 'vtodo'],
  available: ['vavailability'],
};

function checkNesting(component: ICAL.Component, parent: string | null): void {
  const allowed = ALLOWED_PARENTS[component.name];
  if (parent !== null && allowed !== undefined && !allowed.includes(parent)) {
    throw invalid(`${upper(component.name)} cannot appear inside ${upper(parent)}.`);
  }
  for (const child of component.getAllSubcomponents()) checkNesting(child, component.name);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z?$/;
const DURATION = /^[+-]?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const UTC_OFFSET = /^[+-](\d{2}):(\d{2})(?::(\d{2}))?$/;
/** Ten thousand years: any longer DURATION cannot be meant and overflows date arithmetic. */
const MAX_DURATION_SECONDS = 10_000 * 366 * 86_400;

function validDate(value: string, withTime: boolean): boolean {
  const match = (withTime ? DATE_TIME : DATE).exec(value);
  if (match === null) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match.slice(1).map((n) => Number(n ?? 0));
  if (month < 1 || month > 12 || day < 1 || day > ICAL.Time.daysInMonth(month, year)) return false;
  return hour <= 23 && minute <= 59 && second <= 60;
}

function validDuration(value: string): boolean {
  const match = DURATION.exec(value);
  if (match === null || value.endsWith('P') || value.endsWith('T')) return false;
  const [weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0] = match.slice(1).map((n) => Number(n ?? 0));
  return ((weeks * 7 + days) * 86_400) + hours * 3600 + minutes * 60 + seconds <= MAX_DURATION_SECONDS;
}

/** Why a jCal value of the given type is malformed, or null. */
function valueProblem(type: string, value: unknown): string | null {
  const shown = (v: unknown): string => JSON.stringify(typeof v === 'string' ? v.replace(/[-:]/g, '') : v);
  switch (type) {
    case 'date': return typeof value === 'string' && validDate(value, false) ? null : `${shown(value)} is not a valid DATE`;
    case 'date-time': return typeof value === 'string' && validDate(value, true) ? null : `${shown(value)} is not a valid DATE-TIME`;
    case 'duration': return typeof value === 'string' && validDuration(value) ? null : `${JSON.stringify(value)} is not a valid DURATION (or is out of range)`;
    case 'period': {
      if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string') return 'is not a valid PERIOD';
      const [start, end] = value as [string, string];
      const endOk = /^[+-]?P/.test(end) ? validDuration(end) && !end.startsWith('-') : validDate(end, true);
      return validDate(start, true) && endOk ? null : `${shown(`${start}/${end}`)} is not a valid PERIOD`;
    }
    case 'utc-offset': {
      const match = typeof value === 'string' ? UTC_OFFSET.exec(value) : null;
      return match !== null && Number(match[1]) <= 23 && Number(match[2]) <= 59 && Number(match[3] ?? 0) <= 59
        ? null : `${JSON.stringify(value)} is not a valid UTC offset`;
    }
    case 'recur': {
      const until = (value as { until?: unknown } | null)?.until;
      if (typeof until === 'string' && !validDate(until, until.includes('T'))) return `has an invalid UNTIL ${shown(until)}`;
      const interval = (value as { interval?: unknown } | null)?.interval;
      if (interval !== undefined && !(typeof interval === 'number' && interval >= 1)) return 'has an invalid INTERVAL';
      return null;
    }
    default: return null;
  }
}

/** Every property value of every component must decode and, for time types, be well formed. */
function checkValues(component: ICAL.Component): void {
  for (const property of component.getAllProperties()) {
    const where = `${upper(property.name)} of ${upper(component.name)}`;
    try {
      property.getValues();
    } catch (error) {
      throw invalid(`${where} has a value that cannot be read: ${error instanceof Error ? error.message : String(error)}.`);
    }
    const jCal = property.toJSON() as unknown[];
    const type = String(jCal[2]);
    for (const value of jCal.slice(3)) {
      const problem = valueProblem(type, value);
      if (problem !== null) throw invalid(`${where}: ${problem}.`);
    }
  }
  for (const child of component.getAllSubcomponents()) checkValues(child);
}

const TIME_TYPES: ReadonlySet<string> = new Set(['date-time', 'date', 'period']);

/** Embedded VTIMEZONEs must be usable (checked before any value is read: ical.js trips over them). */
function checkVtimezones(vcalendar: ICAL.Component): void {
  const seen = new Set<string>();
  for (const vtimezone of vcalendar.getAllSubcomponents('vtimezone')) {
    const problem = vtimezoneProblem(vtimezone);
    if (problem !== null) throw invalid(`${problem}.`);
    const tzid = vtimezone.getFirstPropertyValue('tzid') as string;
    if (seen.has(tzid)) throw invalid(`There are two VTIMEZONE components with TZID "${tzid}".`);
    seen.add(tzid);
  }
}

/** Every TZID on a time value must be defined in the object or known to resolveZone. */
function checkTzidReferences(vcalendar: ICAL.Component): void {
  const embedded = embeddedTzids(vcalendar);
  const visit = (component: ICAL.Component): void => {
    for (const property of component.getAllProperties()) {
      const tzid = property.getParameter('tzid');
      if (typeof tzid !== 'string' || !TIME_TYPES.has(property.type)) continue;
      // A TZID on UTC values (…Z) changes nothing; some clients add one anyway.
      const values = (property.toJSON() as unknown[]).slice(3).flat();
      if (values.every((v) => typeof v === 'string' && (v.endsWith('Z') || v.startsWith('P')))) continue;
      if (!embedded.has(tzid) && resolveZone(tzid) === null) {
        throw invalid(`TZID "${tzid}" (on ${upper(property.name)}) is not a known time zone and the object has no VTIMEZONE for it.`);
      }
    }
    for (const child of component.getAllSubcomponents()) visit(child);
  };
  visit(vcalendar);
}

/** The RFC 4791 §4.1 object rules; returns the one component type and the one UID. */
function checkResource(vcalendar: ICAL.Component, options: ValidateOptions): { type: string; uid: string } {
  const components = vcalendar.getAllSubcomponents().filter((c) => MAIN_TYPES.includes(c.name));
  const types = [...new Set(components.map((c) => c.name))];
  const type = types[0];
  if (type === undefined) {
    throw notResource('The object has no VEVENT, VTODO, VJOURNAL, VFREEBUSY or VAVAILABILITY component.');
  }
  if (types.length > 1) {
    throw notResource(`A calendar object resource holds one component type; this one mixes ${types.map(upper).join(' and ')} (RFC 4791 §4.1).`);
  }
  const supported = options.supportedComponents;
  if (supported !== undefined && !supported.some((name) => name.toLowerCase() === type)) {
    throw new InvalidCalendarObject('supported-calendar-component',
      `This calendar does not accept ${upper(type)} components (it accepts ${supported.map(upper).join(', ') || 'none'}).`);
  }
  let uid: string | null = null;
  let masters = 0;
  const recurrenceIds = new Set<number>();
  for (const component of components) {
    const uids = component.getAllProperties('uid');
    const value = uids[0]?.getFirstValue();
    if (typeof value !== 'string' || value.trim() === '') throw notResource(`${upper(type)} has no UID.`);
    if (uids.length > 1) throw notResource(`${upper(type)} has more than one UID.`);
    if (uid !== null && value !== uid) {
      throw notResource(`All components of a calendar object resource share one UID; found "${uid}" and "${value}" (RFC 4791 §4.1).`);
    }
    uid = value;
    const recurrenceId = component.getFirstPropertyValue('recurrence-id');
    if (recurrenceId instanceof ICAL.Time) {
      const ms = toUtcMs(recurrenceId);
      if (recurrenceIds.has(ms)) {
        throw notResource(`Two ${upper(type)} components have RECURRENCE-ID ${recurrenceId.toICALString()}.`);
      }
      recurrenceIds.add(ms);
    } else if (++masters > 1) {
      throw notResource(`There are ${components.filter((c) => !c.hasProperty('recurrence-id')).length} ${upper(type)} components without RECURRENCE-ID with UID "${value}"; only one may be the master.`);
    }
  }
  return { type, uid: uid as string };
}

const SINGLE_PROPERTIES = ['uid', 'dtstart', 'dtend', 'duration', 'due', 'recurrence-id', 'completed', 'created', 'dtstamp', 'sequence'];

function timeOf(component: ICAL.Component, name: string): ICAL.Time | null {
  const value = component.getFirstPropertyValue(name);
  return value instanceof ICAL.Time ? value : null;
}

/** RFC 5545 §3.6 rules that decide when a component happens. */
function checkComponent(component: ICAL.Component): void {
  const name = upper(component.name);
  for (const property of SINGLE_PROPERTIES) {
    if (component.getAllProperties(property).length > 1) throw invalid(`${name} has more than one ${upper(property)}.`);
  }
  const dtstart = timeOf(component, 'dtstart');
  if (dtstart === null && component.name === 'vevent') throw invalid(`${name} has no DTSTART (RFC 5545 §3.6.1).`);
  const duration = component.getFirstPropertyValue('duration');
  for (const endName of ['dtend', 'due']) {
    const end = timeOf(component, endName);
    if (end !== null && duration !== null) throw invalid(`${name} has both ${upper(endName)} and DURATION; only one is allowed.`);
    if (end !== null && dtstart !== null && toUtcMs(end) < toUtcMs(dtstart)) {
      throw invalid(`${name} ends (${upper(endName)} ${end.toICALString()}) before it starts (DTSTART ${dtstart.toICALString()}).`);
    }
  }
  if (duration instanceof ICAL.Duration) {
    if (duration.isNegative && duration.toSeconds() !== 0) throw invalid(`${name} has a negative DURATION.`);
    if (dtstart === null) throw invalid(`${name} has a DURATION but no DTSTART.`);
  }
  for (const recurrence of ['rrule', 'rdate', 'exdate']) {
    if (component.hasProperty(recurrence) && dtstart === null) throw invalid(`${name} has ${upper(recurrence)} but no DTSTART.`);
  }
  if (dtstart !== null) checkRules(component, dtstart);
  for (const alarm of component.getAllSubcomponents('valarm')) {
    if (!alarm.hasProperty('trigger')) throw invalid(`A VALARM of ${name} has no TRIGGER (RFC 5545 §3.6.6).`);
  }
  for (const available of component.getAllSubcomponents('available')) {
    if (!available.hasProperty('dtstart')) throw invalid('An AVAILABLE component has no DTSTART (RFC 7953 §3.1).');
    if (available.hasProperty('dtend') && available.hasProperty('duration')) throw invalid('An AVAILABLE component has both DTEND and DURATION.');
  }
}

/** Trial expansion at write time: this many instances, from at most so many rule values and candidate tests. */
const TRIAL = { instances: 10, maxIterations: 1000, maxChecks: 50_000 };

/**
 * Each RRULE must be one ical.js can start iterating (it refuses e.g. BYMONTHDAY in a WEEKLY rule),
 * and together they must yield their first instances (or end) with bounded work. An impossible rule
 * (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) would otherwise cost every later query its whole work budget,
 * only to be cut off; it is refused once, here.
 */
function checkRules(component: ICAL.Component, dtstart: ICAL.Time): void {
  const name = upper(component.name);
  const rules: string[] = [];
  for (const property of component.getAllProperties('rrule')) {
    const rule = property.getFirstValue();
    if (!(rule instanceof ICAL.Recur)) continue;
    rules.push(rule.toString());
    try {
      rule.iterator(dtstart);
    } catch (error) {
      throw invalid(`RRULE ${rule.toString()} of ${name} cannot be used: ${error instanceof Error ? error.message : String(error)}.`);
    }
  }
  if (rules.length === 0) return;
  const set = recurrenceSet(component, undefined, TRIAL);
  let found = 0;
  while (found < TRIAL.instances && set.next() !== null) found++;
  if (found < TRIAL.instances && set.stoppedBy !== null) {
    throw invalid(`RRULE ${rules.join(', ')} of ${name} yields no instances within a bounded search; it looks impossible (such as 30 February).`);
  }
}
