// PUT (RFC 9110 §9.3.4, RFC 4918 §9.7): stores the body byte for byte; the collection kind's write
// hook (CalDAV, CardDAV) validates it and extracts metadata first. Preconditions are evaluated here
// and re-checked by the store inside the write transaction (compare-and-swap on the ETag).
import { DavError } from '../errors.ts';
import { encodePath, parseTarget } from '../paths.ts';
import type { RequestContext } from '../plugin.ts';
import { checkPreconditions } from '../preconditions.ts';
import { emptyResponse, header, type DavResponse } from '../request.ts';
import { OBJECT_HOLDERS, type Resource } from '../resource.ts';

export async function put(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  if (resource !== null && resource.kind !== 'object') {
    throw new DavError(405, 'PUT cannot replace a collection.', undefined, { Allow: 'OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, DELETE, MKCOL, COPY, MOVE' });
  }
  if (header(context.request, 'content-range') !== undefined) throw new DavError(400, 'Partial PUT (Content-Range) is not supported.');
  const { segments, trailingSlash } = parseTarget(context.request.target);
  if (resource === null && trailingSlash) throw new DavError(409, 'A URL ending in "/" names a collection; PUT creates files only.');
  const name = segments[segments.length - 1];
  const parentPath = `/${segments.slice(0, -1).join('/')}/`;
  const parent = resource?.collection ?? (await context.store.getCollection(parentPath));
  if (parent === null || name === undefined || segments.length < 3) throw new DavError(409, 'The parent collection does not exist.');
  if (!OBJECT_HOLDERS.has(parent.kind)) throw new DavError(403, 'This collection holds collections, not objects.');
  const body = context.request.body;
  const hook = context.registry.writeHook(parent.kind);
  // Protocol hooks refuse oversized bodies with their own precondition (C:/CR:max-resource-size).
  if (hook === undefined && body.byteLength > context.settings.maxResourceSize) throw new DavError(413, 'The resource is larger than the server accepts.');

  const expectation = checkPreconditions(context.request, resource?.kind === 'object' ? resource.object.etag : undefined);
  const contentType = header(context.request, 'content-type');
  const metadata = hook === undefined ? {} : await hook(context, parent, { name, body, contentType });
  const { created, object } = await context.store.putObject({
    collectionId: parent.id,
    name,
    body,
    contentType: contentType ?? 'application/octet-stream',
    metadata,
    expect: expectation,
  });
  const headers: Record<string, string> = { ETag: object.etag, 'Content-Length': '0' };
  if (created) headers.Location = encodePath(`${parent.path}${name}`);
  return emptyResponse(created ? 201 : 204, headers);
}
