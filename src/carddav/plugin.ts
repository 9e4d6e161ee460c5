// CardDAV (RFC 6352): address book homes and address books, and the principal property that leads
// clients to them. Each user gets a home with an address book named "default".
import type { DavPlugin, LiveProperty } from '../dav/plugin.ts';
import { hrefNode } from '../dav/properties/core.ts';
import { homePath, type Resource } from '../dav/resource.ts';
import { carddav, dav } from '../dav/xml/names.ts';
import { el } from '../dav/xml/tree.ts';
import { serializeElement } from '../dav/xml/write.ts';

const isPrincipal = (resource: Resource): boolean => resource.kind === 'principal';

const properties: LiveProperty[] = [
  {
    name: carddav('addressbook-home-set'), inAllprop: false, protected: true, appliesTo: isPrincipal,
    get: (c) => [hrefNode(homePath('addressbooks', c.user.name))],
  },
];

export const carddavPlugin: DavPlugin = {
  name: 'carddav',
  properties,
  collectionTypes: [{ kind: 'addressbook', resourceType: [carddav('addressbook')], parentKinds: ['addressbook-home'] }],
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
