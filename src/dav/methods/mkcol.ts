// MKCOL (RFC 4918 §9.3) and extended MKCOL (RFC 5689): a plain MKCOL makes the default collection kind
// for its parent; an extended one names a resourcetype (matched against the plugins' collection types)
// and sets properties atomically with the creation. Also used by MKCALENDAR (RFC 4791 §5.3.1).
import type { CollectionKind, CollectionRecord } from '../../store/types.ts';
import { DavError } from '../errors.ts';
import { encodePath, parseTarget } from '../paths.ts';
import type { CollectionType, RequestContext } from '../plugin.ts';
import { emptyResponse, header, xmlResponse, type DavResponse } from '../request.ts';
import type { Resource } from '../resource.ts';
import { dav, type ClarkName } from '../xml/names.ts';
import { statusLine, writeError, type PropStat } from '../xml/multistatus.ts';
import { parseXml } from '../xml/parse.ts';
import { childElements, el, type XmlElement } from '../xml/tree.ts';
import { xmlDocument } from '../xml/write.ts';
import { checkInstructions, failedPropstats, parsePropertyUpdate } from './proppatch.ts';

/** Collections that plain MKCOL creates, by the kind of the parent. */
const PLAIN_MKCOL_KIND: Partial<Record<CollectionKind, CollectionKind>> = { 'files-home': 'files', files: 'files' };

export interface CreationTarget {
  readonly parent: CollectionRecord;
  readonly name: string;
}

/** Finds the parent of a collection to be created; 405 if the target exists, 409 if the parent does not. */
export async function creationTarget(context: RequestContext, resource: Resource | null): Promise<CreationTarget> {
  if (resource !== null) throw new DavError(405, 'A resource already exists at this URL.', undefined, { Allow: 'OPTIONS, PROPFIND, PROPPATCH, DELETE' });
  const { segments } = parseTarget(context.request.target);
  const name = segments[segments.length - 1];
  if (name === undefined || segments.length < 3) throw new DavError(403, 'Collections cannot be created here.');
  const parentPath = `/${segments.slice(0, -1).join('/')}/`;
  const parent = await context.store.getCollection(parentPath);
  if (parent === null) {
    throw new DavError(409, 'The parent collection does not exist.');
  }
  return { parent, name };
}

function matchType(context: RequestContext, resourceType: readonly ClarkName[], parentKind: CollectionKind): CollectionType | CollectionKind | undefined {
  const wanted = new Set(resourceType.filter((n) => n !== dav('collection')));
  if (wanted.size === 0) return PLAIN_MKCOL_KIND[parentKind];
  return context.registry.collectionTypes.find(
    (t) => t.parentKinds.includes(parentKind) && t.resourceType.length === wanted.size && t.resourceType.every((n) => wanted.has(n)),
  );
}

/**
 * Creates a collection of `kind` with the given set-instructions. Properties that fail validation make
 * the whole creation fail with a 403 whose body reports each property (RFC 5689 §3.3).
 */
export async function createWithProperties(
  context: RequestContext,
  target: CreationTarget,
  kind: CollectionKind,
  setElements: readonly XmlElement[],
  responseRoot: ClarkName,
): Promise<DavResponse> {
  const href = encodePath(`${target.parent.path}${target.name}/`);
  const probe: Resource = {
    kind: 'collection',
    path: `${target.parent.path}${target.name}/`,
    collection: { ...target.parent, id: -1, parentId: target.parent.id, kind, path: `${target.parent.path}${target.name}/` },
  };
  const instructions = setElements.map((element) => ({ op: 'set' as const, element }));
  const settableAtCreation = new Set(
    setElements.filter((e) => context.registry.liveProperty(e.name, probe)?.settableAtCreation === true).map((e) => e.name),
  );
  const { failures, operations } = checkInstructions(context, probe, instructions, settableAtCreation);
  if (failures.size > 0) return xmlResponse(403, mkcolResponse(responseRoot, failedPropstats(instructions, failures)));
  const type = context.registry.collectionTypes.find((t) => t.kind === kind);
  const given = new Set(operations.map((o) => o.name));
  const defaults = (type?.defaultProperties ?? []).filter((o) => !given.has(o.name));
  await context.store.createCollection({ ownerId: context.user.id, parentId: target.parent.id, name: target.name, kind, properties: [...defaults, ...operations] });
  return emptyResponse(201, { Location: href, 'Content-Length': '0' });
}

/** RFC 5689 §5.2 / RFC 4791 §9.3: propstat elements directly under mkcol-response / mkcalendar-response. */
function mkcolResponse(root: ClarkName, propstats: readonly PropStat[]): string {
  return xmlDocument(
    el(
      root,
      ...propstats.map((p) =>
        el(
          dav('propstat'),
          el(dav('prop'), ...p.props.map((prop) => el(prop.name))),
          el(dav('status'), statusLine(p.status)),
          ...(p.error === undefined ? [] : [el(dav('error'), p.error)]),
        ),
      ),
    ),
  );
}

export async function mkcol(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  const target = await creationTarget(context, resource);
  const body = context.request.body;
  if (body.byteLength === 0) {
    const kind = PLAIN_MKCOL_KIND[target.parent.kind];
    if (kind === undefined) throw new DavError(403, 'Plain MKCOL cannot create a collection here; use extended MKCOL or MKCALENDAR.', dav('valid-resourcetype'));
    return createWithProperties(context, target, kind, [], dav('mkcol-response'));
  }
  const contentType = (header(context.request, 'content-type') ?? '').toLowerCase();
  if (contentType !== '' && !contentType.includes('xml')) throw new DavError(415, 'MKCOL bodies must be XML (extended MKCOL).');
  const root = parseXml(body);
  if (root.name !== dav('mkcol')) throw new DavError(415, 'Unsupported MKCOL body.');
  const instructions = parsePropertyUpdate({ ...root, name: dav('propertyupdate') });
  const resourceTypeElement = instructions.find((i) => i.element.name === dav('resourcetype'))?.element;
  const resourceType = resourceTypeElement === undefined ? [] : childElements(resourceTypeElement).map((e) => e.name);
  const match = matchType(context, resourceType, target.parent.kind);
  if (match === undefined) {
    return xmlResponse(403, writeError([el(dav('valid-resourcetype'))]));
  }
  const kind = typeof match === 'string' ? match : match.kind;
  const rest = instructions.filter((i) => i.op === 'set' && i.element.name !== dav('resourcetype')).map((i) => i.element);
  return createWithProperties(context, target, kind, rest, dav('mkcol-response'));
}

