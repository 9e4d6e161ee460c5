// If-Match / If-None-Match evaluation (RFC 9110 §13.1) against the current entity tag, producing the
// compare-and-swap expectation the store re-checks inside its write transaction.
// Imports store types and DAV errors only.
import type { WriteExpectation } from '../store/store.ts';
import { DavError } from './errors.ts';
import { header, type DavRequest } from './request.ts';

function parseTagList(value: string): string[] | '*' {
  if (value.trim() === '*') return '*';
  const tags = value.match(/(?:W\/)?"[^"]*"/gu) ?? [];
  return tags;
}

function strongMatch(list: readonly string[], etag: string): boolean {
  return list.some((tag) => !tag.startsWith('W/') && tag === etag);
}

function weakMatch(list: readonly string[], etag: string): boolean {
  return list.some((tag) => tag.replace(/^W\//u, '') === etag);
}

/**
 * Throws 412 when the request's preconditions do not hold for the resource's current state
 * (`currentEtag` undefined = no resource), and returns what the write must still find at commit.
 */
export function checkPreconditions(request: DavRequest, currentEtag: string | undefined, forRead = false): WriteExpectation {
  const ifMatch = header(request, 'if-match');
  if (ifMatch !== undefined) {
    const list = parseTagList(ifMatch);
    const ok = currentEtag !== undefined && (list === '*' || strongMatch(list, currentEtag));
    if (!ok) throw new DavError(412, 'If-Match did not match the current version.');
  }
  const ifNoneMatch = header(request, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    const list = parseTagList(ifNoneMatch);
    const matches = currentEtag !== undefined && (list === '*' || weakMatch(list, currentEtag));
    if (matches) {
      if (forRead) throw new DavError(304, 'Not modified.', undefined, currentEtag === undefined ? {} : { ETag: currentEtag });
      throw new DavError(412, 'If-None-Match matched the current version.');
    }
  }
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return currentEtag === undefined ? { absent: true } : { etag: currentEtag };
}
