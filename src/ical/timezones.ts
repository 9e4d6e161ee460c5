// Time zones for the iCalendar code: resolving TZIDs (IANA, aliases, Windows and Outlook names) to
// ical.js zones, the server's VTIMEZONE definitions (RFC 7809) and parsing client-supplied ones.
// Imports nothing of ours outside src/ical.
import ICAL from 'ical.js';
import { tzlib_get_ical_block, tzlib_get_timezones } from 'timezones-ical-library';
import { findIana, findIanaAliases } from 'windows-iana';
import { InvalidCalendarObject } from './types.ts';
import { guessOutlookZone, olsonSuffixes } from './tz-names.ts';
import { COVERAGE_END_YEAR } from './tz-offsets.ts';

export const UTC_ZONE: ICAL.Timezone = ICAL.Timezone.utcTimezone;

/** IANA names that are UTC itself: resolved to ical.js's UTC zone, which it special-cases. */
const UTC_NAMES: ReadonlySet<string> = new Set([
  'utc', 'z', 'gmt', 'uct', 'zulu', 'universal', 'greenwich', 'gmt0', 'gmt+0', 'gmt-0',
  'etc/utc', 'etc/uct', 'etc/zulu', 'etc/universal', 'etc/greenwich', 'etc/gmt', 'etc/gmt0', 'etc/gmt+0', 'etc/gmt-0',
]);

/** Unresolvable names are remembered up to this many (they come from clients); hits are bounded by the database. */
const MAX_CACHED_MISSES = 1000;

let ianaByLowerName: Map<string, string> | null = null;
function ianaNames(): Map<string, string> {
  if (ianaByLowerName === null) {
    const list = tzlib_get_timezones();
    const names = typeof list === 'string' ? (JSON.parse(list) as string[]) : list;
    ianaByLowerName = new Map(names.map((name) => [name.toLowerCase(), name]));
  }
  return ianaByLowerName;
}

/** The database's VTIMEZONE block for a canonical-cased IANA name it lists. */
function databaseBlock(name: string): string | null {
  const block = tzlib_get_ical_block(name);
  const text = Array.isArray(block) ? block[0] : undefined;
  return typeof text === 'string' && text.startsWith('BEGIN:VTIMEZONE') ? text : null;
}

/**
 * Works around two ical.js readings of VTIMEZONE (RFC 5545 §3.6.5) on a copy used for computing:
 * - an observance with RDATEs but no RRULE loses its DTSTART onset; it is added as an RDATE;
 * - instants before the first onset get offset 0; an extra observance from 1601 (the form Outlook
 *   uses) with the TZOFFSETFROM of the earliest onset covers them. The database's definitions start
 *   in 1970, so older dates keep the zone's offset, if without their historical daylight saving time.
 */
function normalizeObservances(component: ICAL.Component): void {
  let earliest: { start: string; offset: string } | null = null;
  for (const observance of component.getAllSubcomponents()) {
    const start = observance.getFirstProperty('dtstart')?.toJSON() as unknown[] | undefined;
    const from = observance.getFirstProperty('tzoffsetfrom')?.toJSON() as unknown[] | undefined;
    if (typeof start?.[3] !== 'string' || typeof from?.[3] !== 'string') continue;
    if (earliest === null || start[3] < earliest.start) earliest = { start: start[3], offset: from[3] };
    if (observance.hasProperty('rdate') && !observance.hasProperty('rrule')) {
      observance.addProperty(new ICAL.Property(['rdate', {}, start[2], start[3]]));
    }
  }
  if (earliest === null || earliest.start <= '1601-01-01T00:00:00') return;
  const observance = new ICAL.Component('standard');
  observance.addProperty(new ICAL.Property(['dtstart', {}, 'date-time', '1601-01-01T00:00:00']));
  observance.addProperty(new ICAL.Property(['tzoffsetfrom', {}, 'utc-offset', earliest.offset]));
  observance.addProperty(new ICAL.Property(['tzoffsetto', {}, 'utc-offset', earliest.offset]));
  component.addSubcomponent(observance);
}

const ianaZones = new Map<string, ICAL.Timezone>();
/** The zone for a canonical-cased IANA name of the database, built once. */
function ianaZone(name: string): ICAL.Timezone | null {
  if (UTC_NAMES.has(name.toLowerCase())) return UTC_ZONE;
  const cached = ianaZones.get(name);
  if (cached !== undefined) return cached;
  const block = databaseBlock(name);
  if (block === null) return null;
  const component = new ICAL.Component(ICAL.parse(block) as unknown[]);
  normalizeObservances(component);
  const zone = new ICAL.Timezone({ component, tzid: name });
  // Expanded once, up front, as far as offsets are ever computed (see tz-offsets.ts): ical.js
  // re-expands a zone from scratch, appending duplicates, whenever a later year is asked for.
  zone._ensureCoverage(COVERAGE_END_YEAR);
  ianaZones.set(name, zone);
  return zone;
}

/** A database name for an IANA name in any case, or for an alias the database knows under another name. */
function canonicalIana(name: string): string | null {
  const names = ianaNames();
  const direct = names.get(name.toLowerCase());
  if (direct !== undefined) return direct;
  for (const alias of findIanaAliases(name)) {
    const known = names.get(alias.toLowerCase());
    if (known !== undefined) return known;
  }
  return null;
}

function fromWindowsName(name: string): string | null {
  for (const candidate of findIana(name)) {
    const canonical = canonicalIana(candidate);
    if (canonical !== null) return canonical;
  }
  return null;
}

function lookUp(tzid: string): ICAL.Timezone | null {
  const name = tzid.trim();
  if (name === '') return null;
  if (UTC_NAMES.has(name.toLowerCase())) return UTC_ZONE;
  const iana = canonicalIana(name) ?? fromWindowsName(name);
  if (iana !== null) return ianaZone(iana);
  // Evolution/Lightning "globally unique" ids: /softwarestudio.org/Olson_20011030_5/America/New_York.
  for (const suffix of olsonSuffixes(name)) {
    const canonical = canonicalIana(suffix);
    if (canonical !== null) return ianaZone(canonical);
  }
  const guess = guessOutlookZone(name, {
    ianaForCity: cityIndexLookup,
    ianaForWindowsName: fromWindowsName,
    offsetsOf: (iana) => sampleOffsets(ianaZone(iana)),
  });
  return guess === null ? null : ianaZone(guess);
}

let cityIndex: Map<string, string> | null = null;
/** "new york" → America/New_York: the last segment of every database name (first one wins). */
function cityIndexLookup(city: string): string | null {
  if (cityIndex === null) {
    cityIndex = new Map();
    for (const name of ianaNames().values()) {
      const last = name.split('/').pop()?.replaceAll('_', ' ').toLowerCase();
      if (last !== undefined && name.includes('/') && !cityIndex.has(last)) cityIndex.set(last, name);
    }
  }
  return cityIndex.get(city.toLowerCase()) ?? null;
}

/** UTC offsets (seconds) of a zone in mid-January and mid-July 2024: standard and summer time. */
function sampleOffsets(zone: ICAL.Timezone | null): number[] {
  if (zone === null) return [];
  return [1, 7].map((month) => zone.utcOffset(ICAL.Time.fromData({ year: 2024, month, day: 15, hour: 12 })));
}

const resolved = new Map<string, ICAL.Timezone>();
const unresolved = new Set<string>();

/**
 * The zone a TZID names, or null: an IANA id of the database (any case; aliases such as US/Pacific
 * included), a Windows zone name as Outlook/Exchange send ("Pacific Standard Time"), the IANA suffix of
 * an Evolution/Lightning globally unique id, or an Outlook display name ("(UTC+01:00) Amsterdam,
 * Berlin, ...", see tz-names.ts for that heuristic). Cached.
 */
export function resolveZone(tzid: string): ICAL.Timezone | null {
  const hit = resolved.get(tzid);
  if (hit !== undefined) return hit;
  if (unresolved.has(tzid)) return null;
  const zone = lookUp(tzid);
  if (zone !== null) {
    resolved.set(tzid, zone);
  } else if (unresolved.size < MAX_CACHED_MISSES) {
    unresolved.add(tzid);
  }
  return zone;
}

/** Whether resolveZone knows the TZID (RFC 7809 §5.2 CALDAV:calendar-timezone-id must name one). */
export function isKnownTimezoneId(tzid: string): boolean {
  return resolveZone(tzid) !== null;
}

/**
 * A VTIMEZONE (CRLF lines, no trailing CRLF) for any TZID resolveZone knows, with TZID set to `tzid`
 * exactly so it can stand beside properties that use that TZID (RFC 7809 §3: the server supplies the
 * definitions); X-LIC-LOCATION keeps the IANA name. UTC gets a fixed +0000 definition. Null if unknown.
 */
export function vtimezoneText(tzid: string): string | null {
  const zone = resolveZone(tzid);
  if (zone === null) return null;
  const block = databaseBlock(zone === UTC_ZONE ? 'Etc/UTC' : zone.tzid);
  if (block === null) return null;
  const copy = new ICAL.Component(ICAL.parse(block) as unknown[]);
  copy.updatePropertyWithValue('tzid', tzid);
  return copy.toString().replace(/\r?\n/g, '\r\n');
}

/** The TZIDs of the VTIMEZONEs embedded in a VCALENDAR. */
export function embeddedTzids(vcalendar: ICAL.Component): Set<string> {
  const ids = new Set<string>();
  for (const vtimezone of vcalendar.getAllSubcomponents('vtimezone')) {
    const tzid = vtimezone.getFirstPropertyValue('tzid');
    if (typeof tzid === 'string') ids.add(tzid);
  }
  return ids;
}

/** Every TZID parameter value used anywhere in the component tree. */
export function usedTzids(component: ICAL.Component, into: Set<string> = new Set()): Set<string> {
  for (const property of component.getAllProperties()) {
    const tzid = property.getParameter('tzid');
    if (typeof tzid === 'string') into.add(tzid);
  }
  for (const child of component.getAllSubcomponents()) usedTzids(child, into);
  return into;
}

/** ical.js's per-object zone cache, which Component#getTimeZoneByID consults first ("may be used by consumers"). */
function zoneCache(vcalendar: ICAL.Component): Map<string, ICAL.Timezone> | null {
  const cache = (vcalendar as unknown as { _timezoneCache?: unknown })._timezoneCache;
  return cache instanceof Map ? (cache as Map<string, ICAL.Timezone>) : null;
}

/**
 * Zones built from embedded VTIMEZONEs, shared between objects whose definitions are identical
 * (clients embed the same VTIMEZONE in every event). ical.js expands a zone's rules from its first
 * onset up to the year asked for, once per Timezone object; building a fresh one per parsed object
 * made each time-range query re-expand decades of DST rules per candidate. An identical definition
 * means identical offsets, so sharing keeps each object's own zone semantics. Bounded; oldest first.
 */
const embeddedZones = new Map<string, ICAL.Timezone>();
const MAX_SHARED_ZONES = 512;

function sharedEmbeddedZone(vtimezone: ICAL.Component, tzid: string): ICAL.Timezone {
  const key = JSON.stringify(vtimezone.jCal);
  const known = embeddedZones.get(key);
  if (known !== undefined) return known;
  const copy = new ICAL.Component(structuredClone(vtimezone.jCal));
  normalizeObservances(copy);
  const zone = new ICAL.Timezone({ component: copy, tzid });
  if (embeddedZones.size >= MAX_SHARED_ZONES) {
    const oldest = embeddedZones.keys().next().value;
    if (oldest !== undefined) embeddedZones.delete(oldest);
  }
  embeddedZones.set(key, zone);
  return zone;
}

/**
 * Makes ical.js resolve every TZID of the object. Call before reading any time value: ical.js
 * resolves a TZID when it first decodes a value and keeps the result. Idempotent.
 *
 * - A TZID the object defines: its VTIMEZONE applies to this object only. ical.js already looks in
 *   the object's own VTIMEZONEs first (Component#getTimeZoneByID) and only then in the global
 *   ICAL.TimezoneService; here the zone is built from a normalised copy (see normalizeObservances)
 *   and put in that per-object cache, never registered globally, so it cannot leak into another object.
 * - A TZID the object uses but does not define: registered in ICAL.TimezoneService under its exact
 *   string, pointing at the zone resolveZone finds (IANA, Windows, Outlook names). Unknown ones stay
 *   unresolved and ical.js would read them as floating: validateCalendarObject refuses those.
 */
export function prepareTimezones(vcalendar: ICAL.Component): void {
  const cache = zoneCache(vcalendar);
  for (const vtimezone of vcalendar.getAllSubcomponents('vtimezone')) {
    const tzid = vtimezone.getFirstPropertyValue('tzid');
    if (cache === null || typeof tzid !== 'string' || cache.has(tzid) || vtimezoneProblem(vtimezone) !== null) continue;
    cache.set(tzid, sharedEmbeddedZone(vtimezone, tzid));
  }
  const embedded = embeddedTzids(vcalendar);
  for (const tzid of usedTzids(vcalendar)) {
    if (embedded.has(tzid) || ICAL.TimezoneService.has(tzid)) continue;
    const zone = resolveZone(tzid);
    if (zone !== null) ICAL.TimezoneService.register(zone, tzid);
  }
}

const UTC_OFFSET = /^[+-](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Why a VTIMEZONE cannot be used (RFC 5545 §3.6.5), or null if it can. */
export function vtimezoneProblem(vtimezone: ICAL.Component): string | null {
  const tzid = vtimezone.getFirstPropertyValue('tzid');
  if (typeof tzid !== 'string' || tzid.trim() === '') return 'A VTIMEZONE has no TZID';
  const observances = vtimezone.getAllSubcomponents().filter((c) => c.name === 'standard' || c.name === 'daylight');
  if (observances.length === 0) return `VTIMEZONE "${tzid}" has no STANDARD or DAYLIGHT component`;
  for (const observance of observances) {
    const name = observance.name.toUpperCase();
    if (!observance.hasProperty('dtstart')) return `${name} of VTIMEZONE "${tzid}" has no DTSTART`;
    for (const property of ['tzoffsetfrom', 'tzoffsetto']) {
      const value = (observance.getFirstProperty(property)?.toJSON() as unknown[] | undefined)?.[3];
      if (value === undefined) return `${name} of VTIMEZONE "${tzid}" has no ${property.toUpperCase()}`;
      const match = typeof value === 'string' ? UTC_OFFSET.exec(value) : null;
      if (match === null || Number(match[1]) > 23 || Number(match[2]) > 59 || Number(match[3] ?? 0) > 59) {
        return `${property.toUpperCase()} of VTIMEZONE "${tzid}" is not a valid UTC offset: ${JSON.stringify(value)}`;
      }
    }
  }
  return null;
}

/**
 * A zone from client-supplied VTIMEZONE text: a VCALENDAR holding one, or a bare VTIMEZONE (the
 * CALDAV:calendar-timezone property, RFC 4791 §5.2.2, and the query's C:timezone, §9.8).
 * Throws InvalidCalendarObject('valid-calendar-data') if it cannot be used.
 */
export function zoneFromVtimezone(text: string): ICAL.Timezone {
  let root: ICAL.Component;
  try {
    const parsed = ICAL.parse(text.replace(/^\uFEFF/, '').trim()) as unknown[];
    if (typeof parsed[0] !== 'string') throw new Error('several root components');
    root = new ICAL.Component(parsed);
  } catch (error) {
    throw new InvalidCalendarObject('valid-calendar-data', `The time zone is not valid iCalendar: ${(error as Error).message}`);
  }
  const vtimezones = root.name === 'vtimezone' ? [root] : root.name === 'vcalendar' ? root.getAllSubcomponents('vtimezone') : [];
  const vtimezone = vtimezones[0];
  if (vtimezone === undefined || vtimezones.length > 1) {
    throw new InvalidCalendarObject('valid-calendar-data', 'The time zone must be exactly one VTIMEZONE component');
  }
  const problem = vtimezoneProblem(vtimezone);
  if (problem !== null) throw new InvalidCalendarObject('valid-calendar-data', problem);
  try {
    const copy = new ICAL.Component(structuredClone(vtimezone.jCal));
    normalizeObservances(copy);
    const zone = new ICAL.Timezone({ component: copy, tzid: vtimezone.getFirstPropertyValue('tzid') as string });
    const offset = zone.utcOffset(ICAL.Time.fromData({ year: 2024, month: 1, day: 1 }));
    if (!Number.isFinite(offset)) throw new Error('no usable offset');
    return zone;
  } catch (error) {
    throw new InvalidCalendarObject('valid-calendar-data', `The VTIMEZONE cannot be used: ${(error as Error).message}`);
  }
}
