// Live properties of calendar collections and calendar homes (RFC 4791 §5.2, RFC 7809 §5, Apple
// extensions): what is computed, what is validated before being stored, what stays the client's.
import { DavError } from '../dav/errors.ts';
import type { LiveProperty } from '../dav/plugin.ts';
import type { Resource } from '../dav/resource.ts';
import { caldav } from '../dav/xml/names.ts';
import { childElements, el, elAttrs, textContent, type XmlElement } from '../dav/xml/tree.ts';
import { serializeElement } from '../dav/xml/write.ts';
import { isKnownTimezoneId, vtimezoneText, zoneFromVtimezone } from '../ical/timezones.ts';
import type { PropertyOperation } from '../store/types.ts';

export const isCalendar = (resource: Resource): boolean => resource.kind === 'collection' && resource.collection.kind === 'calendar';
export const isCalendarObject = (resource: Resource): boolean => resource.kind === 'object' && resource.collection.kind === 'calendar';

/** RFC 7809 §5.2: a calendar-timezone value for a known zone id, as the server supplies it. */
function timezoneProperty(tzid: string): string {
  const vtimezone = vtimezoneText(tzid) ?? '';
  const calendar = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Almanac//Almanac//EN\r\n${vtimezone.replace(/\r?\n$/u, '')}\r\nEND:VCALENDAR\r\n`;
  return serializeElement(el(caldav('calendar-timezone'), calendar));
}

function timezoneIdOf(element: XmlElement): { tzid: string } | DavError {
  try {
    const zone = zoneFromVtimezone(textContent(element));
    return { tzid: zone.tzid };
  } catch (error) {
    return new DavError(403, `The calendar-timezone is not a usable VTIMEZONE: ${(error as Error).message}`, caldav('valid-calendar-data'));
  }
}

const calendarTimezone: LiveProperty = {
  name: caldav('calendar-timezone'),
  inAllprop: false,
  protected: false,
  settableAtCreation: true,
  appliesTo: isCalendar,
  companions: [caldav('calendar-timezone-id')],
  validate: (value) => {
    const result = timezoneIdOf(value);
    return result instanceof DavError ? result : undefined;
  },
  // RFC 7809 §3.1.3: setting the VTIMEZONE also sets the id, so both always agree.
  toStored: (value): PropertyOperation[] => {
    const result = timezoneIdOf(value);
    const operations: PropertyOperation[] = [{ op: 'set', name: caldav('calendar-timezone'), xml: serializeElement(value) }];
    if (!(result instanceof DavError)) {
      operations.push({ op: 'set', name: caldav('calendar-timezone-id'), xml: serializeElement(el(caldav('calendar-timezone-id'), result.tzid)) });
    }
    return operations;
  },
};

const calendarTimezoneId: LiveProperty = {
  name: caldav('calendar-timezone-id'),
  inAllprop: false,
  protected: false,
  settableAtCreation: true,
  appliesTo: isCalendar,
  companions: [caldav('calendar-timezone')],
  validate: (value) => {
    const tzid = textContent(value).trim();
    // RFC 7809 §5.2: an id the server does not know is refused with CALDAV:valid-timezone.
    return isKnownTimezoneId(tzid) ? undefined : new DavError(403, `Unknown time zone id "${tzid}".`, caldav('valid-timezone'));
  },
  toStored: (value): PropertyOperation[] => {
    const tzid = textContent(value).trim();
    return [
      { op: 'set', name: caldav('calendar-timezone-id'), xml: serializeElement(el(caldav('calendar-timezone-id'), tzid)) },
      { op: 'set', name: caldav('calendar-timezone'), xml: timezoneProperty(tzid) },
    ];
  },
};

const scheduleTransparency: LiveProperty = {
  name: caldav('schedule-calendar-transp'),
  inAllprop: false,
  protected: false,
  settableAtCreation: true,
  appliesTo: isCalendar,
  validate: (value) => {
    const children = childElements(value).map((c) => c.name);
    const ok = children.length === 1 && (children[0] === caldav('opaque') || children[0] === caldav('transparent'));
    return ok ? undefined : new DavError(409, 'schedule-calendar-transp must contain opaque or transparent.');
  },
};

export function calendarProperties(maxResourceSize: () => number): LiveProperty[] {
  return [
    {
      // Fixed at creation (RFC 4791 §5.2.3): stored with the collection, never changed by PROPPATCH.
      name: caldav('supported-calendar-component-set'), inAllprop: false, protected: true, settableAtCreation: true, appliesTo: isCalendar,
    },
    {
      name: caldav('supported-calendar-data'), inAllprop: false, protected: true, appliesTo: isCalendar,
      get: () => [elAttrs(caldav('calendar-data'), { 'content-type': 'text/calendar', version: '2.0' })],
    },
    {
      name: caldav('max-resource-size'), inAllprop: false, protected: true, appliesTo: isCalendar,
      get: () => [{ type: 'text', text: String(maxResourceSize()) }],
    },
    calendarTimezone,
    calendarTimezoneId,
    scheduleTransparency,
  ];
}
