// DELETE (RFC 4918 §9.6): objects (honouring If-Match) and whole collections with their members.
// Homes are part of the account and cannot be deleted.
import { DavError } from '../errors.ts';
import type { RequestContext } from '../plugin.ts';
import { checkPreconditions } from '../preconditions.ts';
import { emptyResponse, type DavResponse } from '../request.ts';
import type { Resource } from '../resource.ts';

const COLLECTION_TAG = 'W/"collection"';

export async function deleteResource(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  if (resource === null) throw new DavError(404, 'Not found.');
  switch (resource.kind) {
    case 'object': {
      const expectation = checkPreconditions(context.request, resource.object.etag);
      await context.store.deleteObject(resource.collection.id, resource.object.name, expectation);
      return emptyResponse(204);
    }
    case 'collection':
      if (resource.collection.parentId === null) throw new DavError(403, 'A home collection cannot be deleted.');
      // Collections have no entity tag: If-Match: * holds, any specific tag fails (a weak tag never matches strongly).
      checkPreconditions(context.request, COLLECTION_TAG);
      await context.store.deleteCollection(resource.collection.id);
      return emptyResponse(204);
    case 'root':
    case 'principals':
    case 'principal':
    case 'space':
      throw new DavError(403, 'This resource cannot be deleted.');
  }
}
