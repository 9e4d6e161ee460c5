// MKCALENDAR (RFC 4791 §5.3.1): creates a calendar in the calendar home with the properties in the
// body, all or nothing; the failure body is a CALDAV:mkcalendar-response (§9.3.2).
import { DavError } from '../dav/errors.ts';
import { createWithProperties, creationTarget } from '../dav/methods/mkcol.ts';
import { parsePropertyUpdate } from '../dav/methods/proppatch.ts';
import type { RequestContext } from '../dav/plugin.ts';
import type { DavResponse } from '../dav/request.ts';
import type { Resource } from '../dav/resource.ts';
import { caldav, dav } from '../dav/xml/names.ts';
import { parseXml } from '../dav/xml/parse.ts';
import { childElements, type XmlElement } from '../dav/xml/tree.ts';

export async function mkcalendar(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  if (resource !== null) throw new DavError(405, 'A resource already exists at this URL.', dav('resource-must-be-null'));
  const target = await creationTarget(context, null);
  if (target.parent.kind !== 'calendar-home') {
    throw new DavError(403, 'Calendars can only be created in the calendar home.', caldav('calendar-collection-location-ok'));
  }
  let elements: XmlElement[] = [];
  if (context.request.body.byteLength > 0) {
    const root = parseXml(context.request.body);
    if (root.name !== caldav('mkcalendar')) throw new DavError(400, 'The body must be a CALDAV:mkcalendar element.');
    const sets = parsePropertyUpdate({ ...root, name: dav('propertyupdate') }).filter((i) => i.op === 'set');
    // DAVx5 repeats the resource type in the body; it may only say what MKCALENDAR makes anyway.
    const resourceType = sets.find((i) => i.element.name === dav('resourcetype'));
    if (resourceType !== undefined) {
      const names = new Set(childElements(resourceType.element).map((e) => e.name));
      names.delete(dav('collection'));
      if (names.size !== 1 || !names.has(caldav('calendar'))) {
        throw new DavError(403, 'MKCALENDAR creates calendars only.', dav('valid-resourcetype'));
      }
    }
    elements = sets.filter((i) => i.element.name !== dav('resourcetype')).map((i) => i.element);
  }
  return createWithProperties(context, target, 'calendar', elements, caldav('mkcalendar-response'));
}
