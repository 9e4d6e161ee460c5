// CalDAV (RFC 4791): calendar homes and calendar collections, and the principal properties that lead
// clients to them. Each user gets a home with a calendar named "default" for events and tasks.
import type { DavPlugin, LiveProperty } from '../dav/plugin.ts';
import { hrefNode } from '../dav/properties/core.ts';
import { homePath, principalPath, type Resource } from '../dav/resource.ts';
import { caldav, dav } from '../dav/xml/names.ts';
import { el, elAttrs } from '../dav/xml/tree.ts';
import { serializeElement } from '../dav/xml/write.ts';

const isPrincipal = (resource: Resource): boolean => resource.kind === 'principal';
const isCalendar = (resource: Resource): boolean => resource.kind === 'collection' && resource.collection.kind === 'calendar';

function componentSet(components: readonly string[]): string {
  return serializeElement(el(caldav('supported-calendar-component-set'), ...components.map((c) => elAttrs(caldav('comp'), { name: c }))));
}

const properties: LiveProperty[] = [
  {
    name: caldav('calendar-home-set'), inAllprop: false, protected: true, appliesTo: isPrincipal,
    get: (c) => [hrefNode(homePath('calendars', c.user.name))],
  },
  {
    // RFC 6638 §2.4.1: the addresses that identify this user as a calendar user.
    name: caldav('calendar-user-address-set'), inAllprop: false, protected: true, appliesTo: isPrincipal,
    get: (c) => [
      ...(c.user.email === null ? [] : [el(dav('href'), `mailto:${c.user.email}`)]),
      hrefNode(principalPath(c.user.name)),
    ],
  },
  {
    // Fixed at creation (RFC 4791 §5.2.3): stored with the collection, never changed by PROPPATCH.
    name: caldav('supported-calendar-component-set'), inAllprop: false, protected: true, settableAtCreation: true, appliesTo: isCalendar,
  },
];

export const caldavPlugin: DavPlugin = {
  name: 'caldav',
  properties,
  collectionTypes: [{ kind: 'calendar', resourceType: [caldav('calendar')], parentKinds: ['calendar-home'] }],
  homes: (user) => [
    {
      path: homePath('calendars', user.name),
      kind: 'calendar-home',
      children: [
        {
          name: 'default',
          kind: 'calendar',
          properties: [
            { op: 'set', name: dav('displayname'), xml: serializeElement(el(dav('displayname'), 'Calendar')) },
            { op: 'set', name: caldav('supported-calendar-component-set'), xml: componentSet(['VEVENT', 'VTODO']) },
          ],
        },
      ],
    },
  ],
};
