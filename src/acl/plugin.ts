// Principals and privileges (RFC 3744 subset, RFC 5397): the principal's own properties and the
// current user's privilege set. A user only ever resolves their own resources, so privileges are
// "everything" on what they own and "read" on the shared server structure. The expand-property
// report (expand-property.ts) is how Apple clients read principals and their delegations.
import type { DavPlugin, LiveProperty } from '../dav/plugin.ts';
import { hrefNode } from '../dav/properties/core.ts';
import { principalPath, type Resource } from '../dav/resource.ts';
import { cs, dav } from '../dav/xml/names.ts';
import { el } from '../dav/xml/tree.ts';
import { EXPAND_PROPERTY_REPORT } from './expand-property.ts';

const OWNER_PRIVILEGES = ['read', 'write', 'write-properties', 'write-content', 'bind', 'unbind', 'read-current-user-privilege-set', 'all'];
const READER_PRIVILEGES = ['read', 'read-current-user-privilege-set'];

function privilegesFor(resource: Resource): string[] {
  switch (resource.kind) {
    case 'collection':
    case 'object':
      return OWNER_PRIVILEGES;
    case 'principal':
    case 'root':
    case 'principals':
    case 'space':
      return READER_PRIVILEGES;
  }
}

const isPrincipal = (resource: Resource): boolean => resource.kind === 'principal';

const properties: LiveProperty[] = [
  {
    name: dav('principal-URL'), inAllprop: false, protected: true, appliesTo: isPrincipal,
    get: (c) => [hrefNode(principalPath(c.user.name))],
  },
  {
    name: dav('principal-collection-set'), inAllprop: false, protected: true, appliesTo: () => true,
    get: () => [hrefNode('/principals/')],
  },
  {
    name: dav('current-user-privilege-set'), inAllprop: false, protected: true, appliesTo: () => true,
    get: (_c, r) => privilegesFor(r).map((p) => el(dav('privilege'), el(dav(p)))),
  },
  // Apple clients ask for these on the principal; an empty value is the truthful answer.
  { name: dav('group-membership'), inAllprop: false, protected: true, appliesTo: isPrincipal, get: () => [] },
  { name: dav('alternate-URI-set'), inAllprop: false, protected: true, appliesTo: isPrincipal, get: () => [] },
  // Calendar delegation (calendarserver.org caldav-proxy): nobody has made this user a proxy, so the
  // lists iOS expands at account setup are empty.
  { name: cs('calendar-proxy-read-for'), inAllprop: false, protected: true, appliesTo: isPrincipal, get: () => [] },
  { name: cs('calendar-proxy-write-for'), inAllprop: false, protected: true, appliesTo: isPrincipal, get: () => [] },
];

export const aclPlugin: DavPlugin = { name: 'acl', properties, reports: [EXPAND_PROPERTY_REPORT] };
