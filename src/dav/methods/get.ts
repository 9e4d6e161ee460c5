// GET and HEAD (RFC 9110 §9.3.1-2): objects are returned byte for byte with their strong ETag;
// collections answer with a small HTML index for people who open the URL in a browser.
import { DavError } from '../errors.ts';
import { listMembers } from '../members.ts';
import { encodePath } from '../paths.ts';
import type { RequestContext } from '../plugin.ts';
import { checkPreconditions } from '../preconditions.ts';
import type { DavResponse } from '../request.ts';
import type { Resource } from '../resource.ts';
import { escapeAttribute, escapeText } from '../xml/write.ts';
import type { ObjectRecord, ObjectWithBody } from '../../store/types.ts';

export async function get(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  if (resource === null) throw new DavError(404, 'Not found.');
  const head = context.request.method === 'HEAD';
  if (resource.kind !== 'object') return collectionIndex(context, resource, head);
  checkPreconditions(context.request, resource.object.etag, true);
  // The server resolves a GET's target with its body (one read); a resource from elsewhere has none yet.
  const object = hasBody(resource.object) ? resource.object : await context.store.getObjectWithBody(resource.collection.id, resource.object.name);
  if (object === null) throw new DavError(404, 'Not found.');
  // The ETag names the stored state, which clients send back in If-Match, whatever the representation.
  const represent = context.registry.representation(resource.collection.kind);
  const alternative = represent?.(context, object);
  const body = alternative?.body ?? object.body;
  const headers: Record<string, string> = {
    'Content-Type': alternative?.contentType ?? object.contentType,
    'Content-Length': String(body.byteLength),
    ETag: object.etag,
    'Last-Modified': new Date(object.modifiedAt).toUTCString(),
  };
  if (represent !== undefined) headers.Vary = 'Accept';
  return head ? { status: 200, headers } : { status: 200, headers, body };
}

function hasBody(object: ObjectRecord): object is ObjectWithBody {
  return 'body' in object;
}

async function collectionIndex(context: RequestContext, resource: Resource, head: boolean): Promise<DavResponse> {
  const members = await listMembers(context, resource);
  const items = members
    .map((member) => {
      const label = member.path.slice(resource.path.length);
      return `<li><a href="${escapeAttribute(encodePath(member.path))}">${escapeText(label)}</a></li>`;
    })
    .join('\n');
  const html = `<!doctype html>\n<meta charset="utf-8">\n<title>${escapeText(resource.path)}</title>\n<h1>${escapeText(resource.path)}</h1>\n<ul>\n${items}\n</ul>\n`;
  const body = Buffer.from(html, 'utf8');
  const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(body.byteLength) };
  return head ? { status: 200, headers } : { status: 200, headers, body };
}
