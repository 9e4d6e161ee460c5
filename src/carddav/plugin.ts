// CardDAV (RFC 6352): address book homes and address books, the principal property that leads
// clients to them, validation of contacts on PUT, conversion between vCard 3.0 and 4.0 on request,
// and the address book reports. Each user gets a home with an address book named "default".
import { DavError } from '../dav/errors.ts';
import type { DavPlugin, LiveProperty, RequestContext } from '../dav/plugin.ts';
import { hrefNode } from '../dav/properties/core.ts';
import { header } from '../dav/request.ts';
import { homePath, type Resource } from '../dav/resource.ts';
import { carddav, dav } from '../dav/xml/names.ts';
import { el, elAttrs } from '../dav/xml/tree.ts';
import { serializeElement } from '../dav/xml/write.ts';
import type { ObjectWithBody } from '../store/types.ts';
import { cardVersion, convertCard } from '../vcard/convert.ts';
import { parseCard } from '../vcard/validate.ts';
import { CARDDAV_REPORTS } from './reports.ts';
import { validateCardWrite } from './write-hook.ts';

const isPrincipal = (resource: Resource): boolean => resource.kind === 'principal';
const isAddressbook = (resource: Resource): boolean => resource.kind === 'collection' && resource.collection.kind === 'addressbook';
const isCard = (resource: Resource): boolean => resource.kind === 'object' && resource.collection.kind === 'addressbook';

function properties(maxResourceSize: () => number): LiveProperty[] {
  return [
    {
      name: carddav('addressbook-home-set'), inAllprop: false, protected: true, appliesTo: isPrincipal,
      get: (c) => [hrefNode(homePath('addressbooks', c.user.name))],
    },
    {
      name: carddav('supported-address-data'), inAllprop: false, protected: true, appliesTo: isAddressbook,
      get: () => [
        elAttrs(carddav('address-data-type'), { 'content-type': 'text/vcard', version: '3.0' }),
        elAttrs(carddav('address-data-type'), { 'content-type': 'text/vcard', version: '4.0' }),
      ],
    },
    {
      name: carddav('max-resource-size'), inAllprop: false, protected: true, appliesTo: isAddressbook,
      get: () => [{ type: 'text', text: String(maxResourceSize()) }],
    },
    {
      // In PROPFIND the stored card; reports honour the element's version and property selection.
      name: carddav('address-data'), inAllprop: false, protected: true, appliesTo: isCard,
      get: async (c, r) => {
        if (r.kind !== 'object') return undefined;
        const object = await c.store.getObjectWithBody(r.collection.id, r.object.name);
        return object === null ? undefined : [{ type: 'text', text: Buffer.from(object.body).toString('utf8') }];
      },
    },
  ];
}

/** RFC 6352 §5.1.1: `Accept: text/vcard; version=4.0` asks for that version. */
function requestedVersion(context: RequestContext): '3.0' | '4.0' | undefined {
  const accept = header(context.request, 'accept') ?? '';
  let best: { version: '3.0' | '4.0'; q: number } | undefined;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'text/vcard') continue;
    const param = (name: string): string | undefined => params.find((p) => p.startsWith(`${name}=`))?.slice(name.length + 1).replace(/"/gu, '');
    const version = param('version');
    // RFC 9110 §12.5.1: the highest q wins; among equals, the first listed.
    const q = Number(param('q') ?? '1');
    if ((version === '3.0' || version === '4.0') && Number.isFinite(q) && q > 0 && (best === undefined || q > best.q)) best = { version, q };
  }
  return best?.version;
}

function vcardRepresentation(context: RequestContext, object: ObjectWithBody): { body: Uint8Array; contentType: string } | undefined {
  const version = requestedVersion(context);
  if (version === undefined) return undefined;
  const text = Buffer.from(object.body).toString('utf8');
  const card = parseCard(text);
  if (cardVersion(card) === version) return undefined;
  return { body: Buffer.from(convertCard(text, card, version), 'utf8'), contentType: `text/vcard; charset=utf-8; version=${version}` };
}

export function createCarddavPlugin(settings: { readonly maxResourceSize: number }): DavPlugin {
  return {
    name: 'carddav',
    complianceClasses: ['addressbook'],
    properties: properties(() => settings.maxResourceSize),
    reports: CARDDAV_REPORTS,
    collectionTypes: [{ kind: 'addressbook', resourceType: [carddav('addressbook')], parentKinds: ['addressbook-home'] }],
    writeHooks: { addressbook: validateCardWrite },
    representations: { addressbook: vcardRepresentation },
    uidConflict: {
      // RFC 6352 §6.3.2.1: the precondition names the card that already has the UID.
      addressbook: (existingHref) => new DavError(409, 'Another contact in this address book has the same UID.', el(carddav('no-uid-conflict'), el(dav('href'), existingHref))),
    },
    homes: (user) => [
      {
        path: homePath('addressbooks', user.name),
        kind: 'addressbook-home',
        children: [
          { name: 'default', kind: 'addressbook', properties: [{ op: 'set', name: dav('displayname'), xml: serializeElement(el(dav('displayname'), 'Contacts')) }] },
        ],
      },
    ],
  };
}
