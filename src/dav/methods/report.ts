// REPORT (RFC 3253 §3.6): dispatches on the body's root element to a report a plugin registered for
// this resource; anything else is refused with DAV:supported-report (RFC 3253 §3.6, 403).
import { DavError } from '../errors.ts';
import type { RequestContext } from '../plugin.ts';
import type { DavResponse } from '../request.ts';
import type { Resource } from '../resource.ts';
import { dav } from '../xml/names.ts';
import { parseXml } from '../xml/parse.ts';

export async function report(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  if (resource === null) throw new DavError(404, 'Not found.');
  const body = parseXml(context.request.body);
  const definition = context.registry.reports.find((r) => r.name === body.name && r.appliesTo(resource));
  if (definition === undefined) throw new DavError(403, 'This report is not supported on this resource.', dav('supported-report'));
  return definition.handle(context, resource, body);
}
