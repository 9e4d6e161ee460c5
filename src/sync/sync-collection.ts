// The sync-collection REPORT (RFC 6578 §3) on calendars, address books and their homes: everything
// on an empty token, otherwise each member changed since the token once (removed ones as 404), paged
// with DAV:limit. A token the server cannot serve exactly is refused with DAV:valid-sync-token, so the
// client resyncs instead of acting on a wrong diff.
import { DavError } from '../dav/errors.ts';
import { parsePropRequest, wantsMinimal } from '../dav/methods/propfind.ts';
import { encodePath } from '../dav/paths.ts';
import type { ReportDefinition, RequestContext } from '../dav/plugin.ts';
import { evaluateProperties, type PropRequest } from '../dav/properties/evaluate.ts';
import { XML_CONTENT_TYPE, type DavResponse } from '../dav/request.ts';
import type { Resource } from '../dav/resource.ts';
import { dav } from '../dav/xml/names.ts';
import { listingKey, LISTINGS } from '../dav/listing-cache.ts';
import { LARGE_ANSWERS, SLICE, yieldToEventLoop } from '../dav/pacing.ts';
import { MultistatusBuilder } from '../dav/xml/multistatus.ts';
import { el, findChild, textContent, type XmlElement } from '../dav/xml/tree.ts';
import type { CollectionRecord } from '../store/types.ts';
import { formatSyncToken, parseSyncToken } from './token.ts';

const SYNCABLE = new Set(['calendar', 'addressbook', 'calendar-home', 'addressbook-home']);
const HOMES = new Set(['calendar-home', 'addressbook-home']);
/** Largest page served when the client asks for a limit; without one the whole answer is given. */
const MAX_PAGE = 10_000;

export const isSyncable = (resource: Resource): boolean => resource.kind === 'collection' && SYNCABLE.has(resource.collection.kind);

function invalidToken(message: string): DavError {
  return new DavError(403, message, dav('valid-sync-token'));
}

interface SyncRequest {
  readonly token: string;
  readonly limit: number | null;
  readonly props: PropRequest;
  readonly infinite: boolean;
}

function parseRequest(body: XmlElement): SyncRequest {
  const tokenElement = findChild(body, dav('sync-token'));
  // RFC 6578 §6.1 requires sync-level, but iOS sends none (and Thunderbird/iOS send Depth: 1):
  // both are read as level 1, the only level a calendar or address book has anyway.
  const level = textContent(findChild(body, dav('sync-level')) ?? el(dav('sync-level'), '1')).trim().toLowerCase();
  if (level !== '1' && level !== 'infinite' && level !== 'infinity') throw new DavError(400, 'sync-level must be 1 or infinite.');
  const nresults = findChild(findChild(body, dav('limit')) ?? el(dav('limit')), dav('nresults'));
  let limit: number | null = null;
  if (nresults !== undefined) {
    const value = Number(textContent(nresults).trim());
    if (!Number.isInteger(value) || value < 1) throw new DavError(400, 'nresults must be a positive integer.');
    limit = value;
  }
  const props = findChild(body, dav('prop')) === undefined && findChild(body, dav('allprop')) === undefined
    ? ({ kind: 'prop', names: [] } as const)
    : parsePropRequest({ ...body, name: dav('propfind') });
  return { token: textContent(tokenElement ?? el(dav('sync-token'))).trim(), limit, props, infinite: level !== '1' };
}

async function startingPoint(context: RequestContext, collection: CollectionRecord, token: string): Promise<number> {
  if (token === '') return 0;
  const position = parseSyncToken(token);
  if (position === null) throw invalidToken('The sync-token was not issued by this server.');
  if (position.epoch !== (await context.store.epoch())) {
    throw invalidToken('The sync-token predates a restore of this server’s data; a full sync is needed.');
  }
  if (position.collectionId !== collection.id) throw invalidToken('The sync-token belongs to another collection.');
  if (position.seq > collection.syncSeq) throw invalidToken('The sync-token is from the future.');
  return position.seq;
}

async function syncCollection(context: RequestContext, resource: Resource, body: XmlElement): Promise<DavResponse> {
  if (resource.kind !== 'collection' || !SYNCABLE.has(resource.collection.kind)) {
    throw new DavError(403, 'sync-collection applies to calendars, address books and their homes.', dav('supported-report'));
  }
  const collection = resource.collection;
  const request = parseRequest(body);
  // A home's members are collections; syncing into them (level infinite) is not offered.
  if (request.infinite && HOMES.has(collection.kind)) {
    throw new DavError(403, 'sync-level infinite is not supported on a home; sync each collection.', dav('sync-traversal-supported'));
  }
  const after = await startingPoint(context, collection, request.token);
  // A full listing of a large collection is paced like PROPFIND Depth 1 (see pacing.ts).
  const large = after === 0 && collection.objectCount + collection.childCount > SLICE;
  if (!large) return answer(context, collection, request, after, null);
  // An unchanged collection synced from scratch again, with record properties only: the previous
  // answer's members (see listing-cache.ts).
  const epoch = await context.store.epoch();
  const key = request.limit === null ? listingKey('sync', epoch, collection, request.props, wantsMinimal(context)) : null;
  const out = new MultistatusBuilder();
  const cached = key === null ? undefined : LISTINGS.get(key, collection.syncSeq, out.davPrefix);
  if (cached !== undefined) {
    out.addEncoded(cached);
    const token = formatSyncToken({ epoch, collectionId: collection.id, seq: collection.syncSeq });
    return { status: 207, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: out.finishBytes({ syncToken: token }) };
  }
  return LARGE_ANSWERS.run(() => answer(context, collection, request, after, key));
}

async function answer(context: RequestContext, collection: CollectionRecord, request: SyncRequest, after: number, key: string | null): Promise<DavResponse> {
  const pageSize = request.limit === null ? null : Math.min(request.limit, MAX_PAGE);
  const page = await context.store.syncChanges(collection.id, after, pageSize);
  if (after !== 0 && after < page.horizon) throw invalidToken('The sync-token is older than the kept change history; a full sync is needed.');

  const minimal = wantsMinimal(context);
  const home = HOMES.has(collection.kind);
  const out = new MultistatusBuilder();
  // The page was read in one snapshot; it is written in slices, the event loop served in between,
  // and sent only once complete.
  let written = 0;
  for (const change of page.changes) {
    if (++written % SLICE === 0) {
      // What is written so far leaves the JS heap as UTF-8 bytes before the loop yields.
      out.flush();
      await yieldToEventLoop();
    }
    const path = `${collection.path}${change.member}`;
    if (change.deleted) {
      // An initial sync lists what exists; removals only matter to a client that had them.
      // A home's members are collections, whose hrefs end in '/'.
      if (after !== 0) out.add({ href: encodePath(home ? `${path}/` : path), status: 404 });
      continue;
    }
    const object = page.objects.get(change.member);
    const child = page.collections.get(change.member);
    const member: Resource =
      object !== undefined
        ? { kind: 'object', path, collection, object }
        : { kind: 'collection', path: child?.path ?? `${path}/`, collection: child ?? collection };
    const propstats = await evaluateProperties(context, member, request.props, minimal);
    out.add({ href: encodePath(member.path), propstats: propstats.length > 0 ? propstats : [{ status: 200, props: [] }] });
  }
  const last = page.changes[page.changes.length - 1];
  const position = page.truncated && last !== undefined ? last.seq : page.currentSeq;
  if (key !== null && !page.truncated && page.collections.size === 0) {
    out.flush();
    LISTINGS.set(key, page.currentSeq, out.davPrefix, out.encodedSince(0));
  }
  if (page.truncated) {
    // RFC 6578 §3.6: a truncated answer says so with 507 on the request-URI; the token continues it.
    out.add({ href: encodePath(collection.path), status: 507, error: el(dav('number-of-matches-within-limits')) });
  }
  const token = formatSyncToken({ epoch: await context.store.epoch(), collectionId: collection.id, seq: position });
  return { status: 207, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: out.finishBytes({ syncToken: token }) };
}

export const SYNC_COLLECTION_REPORT: ReportDefinition = { name: dav('sync-collection'), appliesTo: isSyncable, handle: syncCollection };
