// Lists the members of a resource for Depth: 1 — one store snapshot per listing, count-guarded by
// the store, so a listing is complete or not served at all. Imports store types and DAV resources.
import type { CollectionMembers, CollectionRecord } from '../store/types.ts';
import type { RequestContext } from './plugin.ts';
import { homePath, principalPath, SPACES, type Resource } from './resource.ts';

export async function listMembers(context: RequestContext, resource: Resource): Promise<Resource[]> {
  switch (resource.kind) {
    case 'root':
      return [{ kind: 'principals', path: '/principals/' }, ...SPACES.map((space) => ({ kind: 'space' as const, path: `/${space}/`, space }))];
    case 'principals':
      return [{ kind: 'principal', path: principalPath(context.user.name), user: context.user }];
    case 'space': {
      const home = await context.store.getCollection(homePath(resource.space, context.user.name));
      return home === null ? [] : [{ kind: 'collection', path: home.path, collection: home }];
    }
    case 'collection':
      return [...memberResources(resource.collection, await context.store.listMembers(resource.collection.id))];
    case 'principal':
    case 'object':
      return [];
  }
}

/** The members of a collection as resources, made one at a time (a large listing never holds them all). */
export function* memberResources(collection: CollectionRecord, members: CollectionMembers): Generator<Resource> {
  for (const child of members.collections) yield { kind: 'collection', path: child.path, collection: child };
  for (const object of members.objects) yield { kind: 'object', path: `${collection.path}${object.name}`, collection, object };
}
