// Live properties every WebDAV resource has (RFC 4918 §15, RFC 5397, RFC 3253 §3.1.5), computed
// from the resource itself. Protocol-specific properties belong to their plugins.
import type { LiveProperty, RequestContext } from '../plugin.ts';
import { encodePath } from '../paths.ts';
import { principalPath, type Resource } from '../resource.ts';
import { dav } from '../xml/names.ts';
import { el, type XmlNode } from '../xml/tree.ts';

export function hrefNode(path: string): XmlNode {
  return el(dav('href'), encodePath(path));
}

const always = (): boolean => true;
const onObjects = (resource: Resource): boolean => resource.kind === 'object';
const onStored = (resource: Resource): boolean => resource.kind === 'object' || resource.kind === 'collection';

function resourceType(context: RequestContext, resource: Resource): XmlNode[] {
  switch (resource.kind) {
    case 'object':
      return [];
    case 'principal':
      return [el(dav('principal'))];
    case 'collection':
      return [el(dav('collection')), ...context.registry.resourceTypeOf(resource.collection.kind).map((name) => el(name))];
    case 'root':
    case 'principals':
    case 'space':
      return [el(dav('collection'))];
  }
}

function ownerName(context: RequestContext, resource: Resource): string | undefined {
  switch (resource.kind) {
    case 'object':
    case 'collection':
    case 'principal':
      // Only the user's own resources resolve, so the owner is always the current user.
      return context.user.name;
    case 'root':
    case 'principals':
    case 'space':
      return undefined;
  }
}

export const CORE_PROPERTIES: readonly LiveProperty[] = [
  { name: dav('resourcetype'), inAllprop: true, protected: true, appliesTo: always, get: resourceType },
  {
    name: dav('getetag'), inAllprop: true, protected: true, appliesTo: onObjects,
    get: (_c, r) => (r.kind === 'object' ? [{ type: 'text', text: r.object.etag }] : undefined),
  },
  {
    name: dav('getcontenttype'), inAllprop: true, protected: true, appliesTo: onObjects,
    get: (_c, r) => (r.kind === 'object' ? [{ type: 'text', text: r.object.contentType }] : undefined),
  },
  {
    name: dav('getcontentlength'), inAllprop: true, protected: true, appliesTo: onObjects,
    get: (_c, r) => (r.kind === 'object' ? [{ type: 'text', text: String(r.object.size) }] : undefined),
  },
  {
    name: dav('getlastmodified'), inAllprop: true, protected: true, appliesTo: onStored,
    get: (_c, r) => {
      const time = r.kind === 'object' ? r.object.modifiedAt : r.kind === 'collection' ? r.collection.updatedAt : undefined;
      return time === undefined ? undefined : [{ type: 'text', text: new Date(time).toUTCString() }];
    },
  },
  {
    name: dav('creationdate'), inAllprop: true, protected: true, appliesTo: onStored,
    get: (_c, r) => {
      const time = r.kind === 'object' ? r.object.createdAt : r.kind === 'collection' ? r.collection.createdAt : undefined;
      return time === undefined ? undefined : [{ type: 'text', text: new Date(time).toISOString().replace(/\.\d{3}Z$/u, 'Z') }];
    },
  },
  {
    // Principals take their name from the account; on collections and objects displayname is a dead property.
    name: dav('displayname'), inAllprop: true, protected: true, appliesTo: (r) => r.kind === 'principal',
    get: (c, r) => (r.kind === 'principal' ? [{ type: 'text', text: c.user.displayName ?? c.user.name }] : undefined),
  },
  // On collections and objects displayname is the client's to set; it is stored as sent.
  { name: dav('displayname'), inAllprop: true, protected: false, appliesTo: onStored },
  {
    name: dav('owner'), inAllprop: false, protected: true, appliesTo: always,
    get: (c, r) => {
      const name = ownerName(c, r);
      return name === undefined ? undefined : [hrefNode(principalPath(name))];
    },
  },
  {
    name: dav('current-user-principal'), inAllprop: false, protected: true, appliesTo: always,
    get: (c) => [hrefNode(principalPath(c.user.name))],
  },
  {
    name: dav('supported-report-set'), inAllprop: false, protected: true, appliesTo: always,
    get: (c, r) =>
      c.registry.reports
        .filter((report) => report.appliesTo(r))
        .map((report) => el(dav('supported-report'), el(dav('report'), el(report.name)))),
  },
];
