// XML names in Clark notation ({namespace}local) behind a branded type, and the namespaces DAV speaks.
// Imports nothing of ours.

/** A qualified XML name written as `{namespace}local`; `{}local` for no namespace. */
export type ClarkName = string & { readonly __clark: unique symbol };

export const NS = {
  DAV: 'DAV:',
  CALDAV: 'urn:ietf:params:xml:ns:caldav',
  CARDDAV: 'urn:ietf:params:xml:ns:carddav',
  CS: 'http://calendarserver.org/ns/',
  ICAL: 'http://apple.com/ns/ical/',
} as const;

export function clark(namespace: string, local: string): ClarkName {
  return `{${namespace}}${local}` as ClarkName;
}

export function splitClark(name: ClarkName): { namespace: string; local: string } {
  const close = name.indexOf('}');
  return { namespace: name.slice(1, close), local: name.slice(close + 1) };
}

export const dav = (local: string): ClarkName => clark(NS.DAV, local);
export const caldav = (local: string): ClarkName => clark(NS.CALDAV, local);
export const carddav = (local: string): ClarkName => clark(NS.CARDDAV, local);
export const cs = (local: string): ClarkName => clark(NS.CS, local);
export const ical = (local: string): ClarkName => clark(NS.ICAL, local);
