// OPTIONS (RFC 4918 §10.1, §18): an honest DAV header — only the compliance classes actually
// implemented (no class 2, since LOCK is not) plus what plugins fully implement — and an Allow header
// for the resource at hand.
import type { RequestContext } from '../plugin.ts';
import { emptyResponse, type DavResponse } from '../request.ts';
import type { Resource } from '../resource.ts';

const CORE_CLASSES = ['1', '3', 'extended-mkcol'];

export function davHeader(context: RequestContext): string {
  return [...CORE_CLASSES, ...context.registry.complianceClasses].join(', ');
}

export function allowedMethods(context: RequestContext, resource: Resource | null): string[] {
  const extra = [...context.registry.methods.keys()];
  const report = context.registry.reports.length > 0 ? ['REPORT'] : [];
  if (resource === null) return ['OPTIONS', 'PUT', 'MKCOL', ...extra];
  switch (resource.kind) {
    case 'object':
      return ['OPTIONS', 'GET', 'HEAD', 'PUT', 'DELETE', 'PROPFIND', 'PROPPATCH', 'COPY', 'MOVE', ...report];
    case 'collection':
      return ['OPTIONS', 'GET', 'HEAD', 'DELETE', 'PROPFIND', 'PROPPATCH', 'COPY', 'MOVE', ...report];
    case 'root':
    case 'principals':
    case 'space':
    case 'principal':
      return ['OPTIONS', 'GET', 'HEAD', 'PROPFIND', ...report];
  }
}

export function options(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  return Promise.resolve(
    emptyResponse(200, { DAV: davHeader(context), Allow: allowedMethods(context, resource).join(', '), 'Content-Length': '0' }),
  );
}
