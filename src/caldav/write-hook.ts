// PUT validation for calendar objects (RFC 4791 §5.3.2.1): media type, size, iCalendar syntax, the
// CalDAV object rules and the calendar's supported components — each refused with its precondition.
// On success it returns the metadata the store indexes (UID, component type, time bounds).
import { DavError } from '../dav/errors.ts';
import type { RequestContext, WriteInput } from '../dav/plugin.ts';
import { caldav } from '../dav/xml/names.ts';
import { parseXml } from '../dav/xml/parse.ts';
import { attr, childElements } from '../dav/xml/tree.ts';
import { decodeCalendarBytes } from '../ical/parse.ts';
import { InvalidCalendarObject } from '../ical/types.ts';
import { validateCalendarObject } from '../ical/validate.ts';
import type { CollectionRecord, ObjectMetadata } from '../store/types.ts';

/** The components a calendar accepts, from its stored supported-calendar-component-set. */
export async function supportedComponents(context: RequestContext, calendar: CollectionRecord): Promise<string[] | undefined> {
  const stored = (await context.store.getProperties({ kind: 'collection', collectionId: calendar.id })).find(
    (p) => p.name === caldav('supported-calendar-component-set'),
  );
  if (stored === undefined) return undefined;
  return childElements(parseXml(stored.xml))
    .map((comp) => attr(comp, 'name')?.toUpperCase())
    .filter((name): name is string => name !== undefined);
}

function isCalendarMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  return contentType.split(';')[0]?.trim().toLowerCase() === 'text/calendar';
}

export async function validateCalendarWrite(context: RequestContext, calendar: CollectionRecord, input: WriteInput): Promise<ObjectMetadata> {
  if (!isCalendarMediaType(input.contentType)) {
    throw new DavError(403, `Calendar objects must be text/calendar, not ${input.contentType ?? 'nothing'}.`, caldav('supported-calendar-data'));
  }
  if (input.body.byteLength > context.settings.maxResourceSize) {
    throw new DavError(403, `The object is larger than ${context.settings.maxResourceSize} bytes.`, caldav('max-resource-size'));
  }
  try {
    const text = decodeCalendarBytes(input.body);
    const components = await supportedComponents(context, calendar);
    const { info } = validateCalendarObject(text, components === undefined ? {} : { supportedComponents: components });
    return { uid: info.uid, component: info.componentType, firstStart: info.firstStart, lastEnd: info.lastEnd, mayBeBusy: info.mayBeBusy };
  } catch (error) {
    if (error instanceof InvalidCalendarObject) throw new DavError(403, error.message, caldav(error.precondition));
    throw error;
  }
}
