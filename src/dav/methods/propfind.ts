// PROPFIND (RFC 4918 §9.1) with Depth 0 and 1; Depth infinity is refused with
// DAV:propfind-finite-depth (§9.1.1). `Prefer: return=minimal` (RFC 7240 §4.2, and the older
// `return-minimal` and `Brief: t` spellings Apple clients send) drops the 404 propstats.
import { DavError } from '../errors.ts';
import { listMembers, memberResources } from '../members.ts';
import type { RequestContext } from '../plugin.ts';
import { encodePath } from '../paths.ts';
import { header, XML_CONTENT_TYPE, xmlResponse, type DavResponse } from '../request.ts';
import type { Resource } from '../resource.ts';
import { evaluateProperties, type PropRequest } from '../properties/evaluate.ts';
import { dav } from '../xml/names.ts';
import { MultistatusBuilder, type MultistatusResponse } from '../xml/multistatus.ts';
import { listingKey, LISTINGS } from '../listing-cache.ts';
import { LARGE_ANSWERS, SLICE, yieldToEventLoop } from '../pacing.ts';
import { parseXml } from '../xml/parse.ts';
import { childElements, findChild, type XmlElement } from '../xml/tree.ts';

export function wantsMinimal(context: RequestContext): boolean {
  const prefer = header(context.request, 'prefer') ?? '';
  if (/\breturn[=-]minimal\b/iu.test(prefer)) return true;
  return (header(context.request, 'brief') ?? '').trim().toLowerCase() === 't';
}

export function parsePropRequest(root: XmlElement): PropRequest {
  if (root.name !== dav('propfind')) throw new DavError(400, 'The body must be a DAV:propfind element.');
  const prop = findChild(root, dav('prop'));
  if (prop !== undefined) return { kind: 'prop', names: childElements(prop).map((e) => e.name) };
  if (findChild(root, dav('propname')) !== undefined) return { kind: 'propname' };
  if (findChild(root, dav('allprop')) !== undefined) {
    const include = findChild(root, dav('include'));
    return { kind: 'allprop', include: include === undefined ? [] : childElements(include).map((e) => e.name) };
  }
  throw new DavError(400, 'DAV:propfind must contain prop, allprop or propname.');
}

export function readDepth(context: RequestContext, fallback: 'infinity' | '0' | '1'): '0' | '1' | 'infinity' {
  const value = (header(context.request, 'depth') ?? fallback).trim().toLowerCase();
  if (value === '0' || value === '1' || value === 'infinity') return value;
  throw new DavError(400, 'The Depth header must be 0, 1 or infinity.');
}

export async function responseFor(context: RequestContext, resource: Resource, request: PropRequest, minimal: boolean): Promise<MultistatusResponse> {
  const propstats = await evaluateProperties(context, resource, request, minimal);
  return { href: encodePath(resource.path), propstats: propstats.length > 0 ? propstats : [{ status: 200, props: [] }] };
}

export async function propfind(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  if (resource === null) throw new DavError(404, 'Not found.');
  const depth = readDepth(context, 'infinity');
  if (depth === 'infinity') {
    throw new DavError(403, 'PROPFIND with Depth: infinity is not supported; use Depth 0 or 1.', dav('propfind-finite-depth'));
  }
  const body = context.request.body;
  const request: PropRequest = body.byteLength === 0 || isBlank(body) ? { kind: 'allprop', include: [] } : parsePropRequest(parseXml(body));
  const minimal = wantsMinimal(context);
  const headers: Record<string, string> = minimal ? { 'Preference-Applied': 'return=minimal' } : {};
  const answer = new MultistatusBuilder();
  answer.add(await responseFor(context, resource, request, minimal));
  if (depth === '0') return xmlResponse(207, answer.finish(), headers);
  if (resource.kind !== 'collection' || resource.collection.objectCount + resource.collection.childCount <= SLICE) {
    for (const member of await listMembers(context, resource)) answer.add(await responseFor(context, member, request, minimal));
    return xmlResponse(207, answer.finish(), headers);
  }
  // A large collection: its members are read in one snapshot (listMembers) and evaluated in slices,
  // serving other requests in between. Invariant 1 holds: the whole answer is built before the
  // status line is sent.
  const collection = resource.collection;
  const done = (): DavResponse => ({ status: 207, headers: { 'Content-Type': XML_CONTENT_TYPE, ...headers }, body: answer.finishBytes() });
  // An unchanged collection listed again with record properties only: the members' markup of the
  // previous answer (see listing-cache.ts); the collection's own response above is always fresh.
  const key = listingKey('propfind', await context.store.epoch(), collection, request, minimal);
  const cached = key === null ? undefined : LISTINGS.get(key, collection.syncSeq, answer.davPrefix);
  if (cached !== undefined) {
    answer.addEncoded(cached);
    return done();
  }
  return LARGE_ANSWERS.run(async () => {
    answer.flush();
    const first = answer.encodedParts;
    const members = await context.store.listMembers(collection.id);
    let written = 0;
    for (const member of memberResources(collection, members)) {
      if (++written % SLICE === 0) {
        // What is written so far leaves the JS heap as UTF-8 bytes before the loop yields.
        answer.flush();
        await yieldToEventLoop();
      }
      answer.add(await responseFor(context, member, request, minimal));
    }
    if (key !== null && members.collections.length === 0) {
      answer.flush();
      LISTINGS.set(key, members.syncSeq, answer.davPrefix, answer.encodedSince(first));
    }
    return done();
  });
}

function isBlank(body: Uint8Array): boolean {
  for (const byte of body) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  return true;
}

