// CalDAV (RFC 4791): calendar homes and calendars, the principal properties that lead clients to
// them, MKCALENDAR, validation of calendar objects on PUT, and the calendar reports. Each user gets a
// home with a calendar named "default" for events and tasks.
import { DavError } from '../dav/errors.ts';
import type { DavPlugin, LiveProperty } from '../dav/plugin.ts';
import { hrefNode } from '../dav/properties/core.ts';
import { homePath, principalPath, type Resource } from '../dav/resource.ts';
import { caldav, dav } from '../dav/xml/names.ts';
import { el, elAttrs } from '../dav/xml/tree.ts';
import { serializeElement } from '../dav/xml/write.ts';
import type { PropertyOperation } from '../store/types.ts';
import { mkcalendar } from './mkcalendar.ts';
import { calendarProperties, isCalendarObject } from './properties.ts';
import { CALDAV_REPORTS } from './reports.ts';
import { validateCalendarWrite } from './write-hook.ts';

const isPrincipal = (resource: Resource): boolean => resource.kind === 'principal';

export function componentSet(components: readonly string[]): PropertyOperation {
  const xml = serializeElement(el(caldav('supported-calendar-component-set'), ...components.map((c) => elAttrs(caldav('comp'), { name: c }))));
  return { op: 'set', name: caldav('supported-calendar-component-set'), xml };
}

const principalProperties: LiveProperty[] = [
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
];

const calendarData: LiveProperty = {
  // In PROPFIND the whole object; reports honour the element's comp/expand selection themselves.
  name: caldav('calendar-data'), inAllprop: false, protected: true, appliesTo: isCalendarObject,
  get: async (c, r) => {
    if (r.kind !== 'object') return undefined;
    const object = await c.store.getObjectWithBody(r.collection.id, r.object.name);
    return object === null ? undefined : [{ type: 'text', text: Buffer.from(object.body).toString('utf8') }];
  },
};

export function createCaldavPlugin(settings: { readonly maxResourceSize: number }): DavPlugin {
  return {
    name: 'caldav',
    complianceClasses: ['calendar-access'],
    properties: [...principalProperties, ...calendarProperties(() => settings.maxResourceSize), calendarData],
    reports: CALDAV_REPORTS,
    methods: { MKCALENDAR: mkcalendar },
    collectionTypes: [
      {
        kind: 'calendar',
        resourceType: [caldav('calendar')],
        parentKinds: ['calendar-home'],
        // RFC 4791 §5.2.3: without a component set the calendar takes every component type.
        defaultProperties: [componentSet(['VEVENT', 'VTODO', 'VJOURNAL'])],
      },
    ],
    writeHooks: { calendar: validateCalendarWrite },
    uidConflict: {
      // RFC 4791 §5.3.2.1: the precondition names the resource that already has the UID.
      calendar: (existingHref) => new DavError(409, 'Another object in this calendar has the same UID.', el(caldav('no-uid-conflict'), el(dav('href'), existingHref))),
    },
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
              componentSet(['VEVENT', 'VTODO']),
            ],
          },
        ],
      },
    ],
  };
}
