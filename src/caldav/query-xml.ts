// Reads the XML of CalDAV reports into the iCalendar domain's query types: filters (RFC 4791 §9.7),
// time ranges (§9.9), calendar-data selection (§9.6) and query time zones (§9.8, RFC 7809 §3.1.6).
// Malformed requests are refused with the precondition RFC 4791 names for them.
import type ICAL from 'ical.js';
import { DavError } from '../dav/errors.ts';
import { caldav } from '../dav/xml/names.ts';
import { attr, childElements, findChild, textContent, type XmlElement } from '../dav/xml/tree.ts';
import { isSupportedCollation } from '../ical/text-match.ts';
import { resolveZone, zoneFromVtimezone } from '../ical/timezones.ts';
import type { CalendarDataRequest, CompFilter, CompSelection, ParamFilter, PropFilter, TextMatch, TimeRange } from '../ical/types.ts';

const UTC_DATE_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/u;

function invalidFilter(message: string): DavError {
  return new DavError(403, message, caldav('valid-filter'));
}

/** RFC 4791 §9.9: start/end are UTC date-times ("20060104T000000Z"). */
export function parseUtcDateTime(value: string, what: string): number {
  const match = UTC_DATE_TIME.exec(value.trim());
  if (match === null) throw invalidFilter(`${what} "${value}" is not a UTC date-time like 20260101T000000Z.`);
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (Number.isNaN(ms) || new Date(ms).getUTCDate() !== day) throw invalidFilter(`${what} "${value}" is not a valid date.`);
  return ms;
}

export function parseTimeRange(element: XmlElement): TimeRange {
  const start = attr(element, 'start');
  const end = attr(element, 'end');
  if (start === undefined && end === undefined) throw invalidFilter('time-range needs a start or an end.');
  const range = {
    start: start === undefined ? null : parseUtcDateTime(start, 'time-range start'),
    end: end === undefined ? null : parseUtcDateTime(end, 'time-range end'),
  };
  if (range.start !== null && range.end !== null && range.end <= range.start) throw invalidFilter('time-range end must be after its start.');
  return range;
}

function parseBoundedRange(element: XmlElement, what: string): { start: number; end: number } {
  const range = parseTimeRange(element);
  if (range.start === null || range.end === null) throw new DavError(400, `${what} needs both start and end.`);
  return { start: range.start, end: range.end };
}

function parseTextMatch(element: XmlElement): TextMatch {
  const collation = attr(element, 'collation') ?? 'i;ascii-casemap';
  if (!isSupportedCollation(collation)) throw new DavError(403, `Collation ${collation} is not supported.`, caldav('supported-collation'));
  const negate = (attr(element, 'negate-condition') ?? 'no').toLowerCase();
  if (negate !== 'yes' && negate !== 'no') throw invalidFilter('negate-condition must be yes or no.');
  return { text: textContent(element), collation, negate: negate === 'yes', matchType: 'contains' };
}

function requireName(element: XmlElement): string {
  const name = attr(element, 'name');
  if (name === undefined || name.trim() === '') throw invalidFilter(`${element.name} needs a name attribute.`);
  return name.trim().toUpperCase();
}

function parseParamFilter(element: XmlElement): ParamFilter {
  const textMatch = findChild(element, caldav('text-match'));
  return {
    name: requireName(element),
    isNotDefined: findChild(element, caldav('is-not-defined')) !== undefined,
    ...(textMatch === undefined ? {} : { textMatch: parseTextMatch(textMatch) }),
  };
}

function parsePropFilter(element: XmlElement): PropFilter {
  const timeRange = findChild(element, caldav('time-range'));
  const textMatch = findChild(element, caldav('text-match'));
  return {
    name: requireName(element),
    isNotDefined: findChild(element, caldav('is-not-defined')) !== undefined,
    ...(timeRange === undefined ? {} : { timeRange: parseTimeRange(timeRange) }),
    ...(textMatch === undefined ? {} : { textMatch: parseTextMatch(textMatch) }),
    paramFilters: childElements(element).filter((e) => e.name === caldav('param-filter')).map(parseParamFilter),
  };
}

function parseCompFilter(element: XmlElement, depth: number): CompFilter {
  if (depth > 8) throw invalidFilter('comp-filter is nested too deeply.');
  const timeRange = findChild(element, caldav('time-range'));
  return {
    name: requireName(element),
    isNotDefined: findChild(element, caldav('is-not-defined')) !== undefined,
    ...(timeRange === undefined ? {} : { timeRange: parseTimeRange(timeRange) }),
    propFilters: childElements(element).filter((e) => e.name === caldav('prop-filter')).map(parsePropFilter),
    compFilters: childElements(element).filter((e) => e.name === caldav('comp-filter')).map((e) => parseCompFilter(e, depth + 1)),
  };
}

/** RFC 4791 §9.7: exactly one comp-filter, on VCALENDAR, without a time-range of its own. */
export function parseFilter(filter: XmlElement | undefined): CompFilter {
  if (filter === undefined) throw invalidFilter('calendar-query needs a filter.');
  const roots = childElements(filter).filter((e) => e.name === caldav('comp-filter'));
  const root = roots[0];
  if (roots.length !== 1 || root === undefined) throw invalidFilter('The filter must hold exactly one comp-filter.');
  const parsed = parseCompFilter(root, 0);
  if (parsed.name !== 'VCALENDAR') throw invalidFilter('The top comp-filter must be VCALENDAR.');
  if (parsed.timeRange !== undefined) throw invalidFilter('VCALENDAR cannot take a time-range.');
  return parsed;
}

function parseCompSelection(element: XmlElement, depth: number): CompSelection {
  if (depth > 8) throw new DavError(400, 'calendar-data comp is nested too deeply.');
  const props = childElements(element).filter((e) => e.name === caldav('prop'));
  const comps = childElements(element).filter((e) => e.name === caldav('comp'));
  return {
    name: requireName(element),
    allProps: findChild(element, caldav('allprop')) !== undefined || props.length === 0,
    props: props.map((p) => ({ name: requireName(p), novalue: (attr(p, 'novalue') ?? 'no').toLowerCase() === 'yes' })),
    allComps: findChild(element, caldav('allcomp')) !== undefined || comps.length === 0,
    comps: comps.map((c) => parseCompSelection(c, depth + 1)),
  };
}

/** RFC 4791 §9.6: the calendar-data element inside DAV:prop. */
export function parseCalendarDataRequest(element: XmlElement): CalendarDataRequest {
  const contentType = attr(element, 'content-type');
  const version = attr(element, 'version');
  if ((contentType !== undefined && contentType.toLowerCase() !== 'text/calendar') || (version !== undefined && version !== '2.0')) {
    throw new DavError(403, 'Only text/calendar version 2.0 is available.', caldav('supported-calendar-data'));
  }
  const comp = findChild(element, caldav('comp'));
  const expand = findChild(element, caldav('expand'));
  const limitRecurrence = findChild(element, caldav('limit-recurrence-set'));
  const limitFreebusy = findChild(element, caldav('limit-freebusy-set'));
  return {
    ...(comp === undefined ? {} : { comp: parseCompSelection(comp, 0) }),
    ...(expand === undefined ? {} : { expand: parseBoundedRange(expand, 'expand') }),
    ...(limitRecurrence === undefined ? {} : { limitRecurrenceSet: parseBoundedRange(limitRecurrence, 'limit-recurrence-set') }),
    ...(limitFreebusy === undefined ? {} : { limitFreebusySet: parseBoundedRange(limitFreebusy, 'limit-freebusy-set') }),
  };
}

/** The query's own time zone for floating times (C:timezone or RFC 7809 C:timezone-id), if given. */
export function parseQueryTimezone(query: XmlElement): ICAL.Timezone | undefined {
  const byId = findChild(query, caldav('timezone-id'));
  if (byId !== undefined) {
    const zone = resolveZone(textContent(byId).trim());
    if (zone === null) throw new DavError(403, `Unknown time zone id "${textContent(byId).trim()}".`, caldav('valid-timezone'));
    return zone;
  }
  const inline = findChild(query, caldav('timezone'));
  if (inline === undefined) return undefined;
  try {
    return zoneFromVtimezone(textContent(inline));
  } catch (error) {
    throw new DavError(403, `The query time zone is not a usable VTIMEZONE: ${(error as Error).message}`, caldav('valid-calendar-data'));
  }
}
