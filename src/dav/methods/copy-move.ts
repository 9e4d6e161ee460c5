// COPY and MOVE (RFC 4918 §9.8, §9.9) within one user's space: Destination must stay in the same
// home as the source, Overwrite (default T) decides whether an existing target is replaced (204) or
// the request fails (412), and the whole operation is one store transaction.
import type { CollectionKind, CollectionRecord } from '../../store/types.ts';
import { DavError } from '../errors.ts';
import { collectionPath, encodePath, parseTarget } from '../paths.ts';
import type { RequestContext } from '../plugin.ts';
import { emptyResponse, header, type DavResponse } from '../request.ts';
import { OBJECT_HOLDERS, type Resource } from '../resource.ts';


interface ParsedDestination {
  readonly parent: CollectionRecord;
  readonly name: string;
  readonly path: string;
}

async function readDestination(context: RequestContext, source: Resource & { kind: 'collection' | 'object' }): Promise<ParsedDestination> {
  const raw = header(context.request, 'destination');
  if (raw === undefined || raw.trim() === '') throw new DavError(400, 'COPY and MOVE need a Destination header.');
  const { segments } = parseTarget(raw.trim());
  const sourceSegments = parseTarget(source.path).segments;
  // Same space and same home: /files/alice/… stays under /files/alice/.
  if (segments.length < 3 || segments[0] !== sourceSegments[0] || segments[1] !== sourceSegments[1]) {
    throw new DavError(403, 'The destination must be inside the same home as the source.');
  }
  const name = segments[segments.length - 1] ?? '';
  const parent = await context.store.getCollection(collectionPath(segments.slice(0, -1)));
  if (parent === null) throw new DavError(409, 'The destination’s parent collection does not exist.');
  return { parent, name, path: `${parent.path}${name}` };
}

function readOverwrite(context: RequestContext): boolean {
  const value = (header(context.request, 'overwrite') ?? 'T').trim().toUpperCase();
  if (value !== 'T' && value !== 'F') throw new DavError(400, 'Overwrite must be T or F.');
  return value === 'T';
}

export async function copyOrMove(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  if (resource === null) throw new DavError(404, 'Not found.');
  if (resource.kind !== 'object' && resource.kind !== 'collection') throw new DavError(403, 'This resource cannot be copied or moved.');
  const isMove = context.request.method === 'MOVE';
  const destination = await readDestination(context, resource);
  const replace = readOverwrite(context);
  const depth = (header(context.request, 'depth') ?? 'infinity').trim().toLowerCase();
  if (isMove ? depth !== 'infinity' : depth !== '0' && depth !== 'infinity') {
    throw new DavError(400, isMove ? 'MOVE requires Depth: infinity.' : 'COPY takes Depth 0 or infinity.');
  }
  const to = { parentId: destination.parent.id, name: destination.name, replace };
  let created: boolean;
  if (resource.kind === 'object') {
    if (!OBJECT_HOLDERS.has(destination.parent.kind)) throw new DavError(409, 'The destination collection cannot hold this resource.');
    if (destination.parent.id === resource.collection.id && destination.name === resource.object.name) {
      throw new DavError(403, 'The source and destination are the same.');
    }
    // The destination's rules apply as to a PUT (RFC 4791 §5.3.2.1 names COPY and MOVE too).
    const hook = context.registry.writeHook(destination.parent.kind);
    if (hook !== undefined) {
      const source = await context.store.getObjectWithBody(resource.collection.id, resource.object.name);
      if (source === null) throw new DavError(404, 'Not found.');
      await hook(context, destination.parent, { name: destination.name, body: source.body, contentType: source.contentType });
    }
    ({ created } = isMove
      ? await context.store.moveObject(resource.collection.id, resource.object.name, to)
      : await context.store.copyObject(resource.collection.id, resource.object.name, to));
  } else {
    const collection = resource.collection;
    if (collection.parentId === null) throw new DavError(403, 'A home collection cannot be copied or moved.');
    const type = context.registry.collectionTypes.find((t) => t.kind === collection.kind);
    const parentKinds: readonly CollectionKind[] = type?.parentKinds ?? ['files-home', 'files'];
    if (!parentKinds.includes(destination.parent.kind)) throw new DavError(409, 'The destination collection cannot hold this collection.');
    const targetPath = `${destination.path}/`;
    if (targetPath === collection.path) throw new DavError(403, 'The source and destination are the same.');
    if (targetPath.startsWith(collection.path)) throw new DavError(403, 'A collection cannot be copied or moved into itself.');
    ({ created } = isMove
      ? await context.store.moveCollection(collection.id, to)
      : await context.store.copyCollection(collection.id, to, depth === 'infinity'));
  }
  return emptyResponse(created ? 201 : 204, created ? { Location: encodePath(destination.path + (resource.kind === 'collection' ? '/' : '')) } : {});
}
