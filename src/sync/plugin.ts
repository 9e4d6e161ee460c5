// Change markers on collections: DAV:sync-token (RFC 6578 §4) and CS:getctag (calendarserver's ctag).
// Both come from the collection's change-log position, which every member change, property change and
// delete moves forward — and a change inside a calendar or address book moves its home's too.
import type { DavPlugin, LiveProperty, RequestContext } from '../dav/plugin.ts';
import type { Resource } from '../dav/resource.ts';
import { cs, dav } from '../dav/xml/names.ts';
import { SYNC_COLLECTION_REPORT } from './sync-collection.ts';
import { formatSyncToken } from './token.ts';

const SYNCED_KINDS = new Set(['calendar', 'addressbook', 'calendar-home', 'addressbook-home']);
const isSynced = (resource: Resource): boolean => resource.kind === 'collection' && SYNCED_KINDS.has(resource.collection.kind);

async function token(context: RequestContext, resource: Resource): Promise<string | undefined> {
  if (resource.kind !== 'collection') return undefined;
  return formatSyncToken({ epoch: await context.store.epoch(), collectionId: resource.collection.id, seq: resource.collection.syncSeq });
}

const properties: LiveProperty[] = [
  {
    name: dav('sync-token'), inAllprop: false, protected: true, appliesTo: isSynced,
    get: async (c, r) => {
      const value = await token(c, r);
      return value === undefined ? undefined : [{ type: 'text', text: value }];
    },
  },
  {
    name: cs('getctag'), inAllprop: false, protected: true, appliesTo: isSynced,
    get: async (c, r) => {
      const value = await token(c, r);
      return value === undefined ? undefined : [{ type: 'text', text: value }];
    },
  },
];

export const syncPlugin: DavPlugin = { name: 'sync', properties, reports: [SYNC_COLLECTION_REPORT] };
