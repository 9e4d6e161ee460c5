// Request-target parsing and href encoding. Every path the server works on is decoded here once, and
// anything that could escape a user's space (dot segments, encoded slashes, NUL) is refused before any
// lookup happens. Imports only DAV errors.
import { DavError } from './errors.ts';

export interface ParsedPath {
  /** Decoded segments, without empty ones. */
  readonly segments: readonly string[];
  /** Whether the target ended with '/'. */
  readonly trailingSlash: boolean;
}

// Control characters, slashes and backslashes never belong in a resource name.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_SEGMENT = /[\u0000-\u001f\u007f/\\]/u;

/** Parses a request-target or the path of an absolute URI (Destination header). */
export function parseTarget(target: string): ParsedPath {
  // A fragment never belongs in a request-target or Destination (RFC 9112 §3.2, RFC 4918 §10.3);
  // acting on the part before it would touch something the client did not name.
  if (target.includes('#')) throw new DavError(400, 'The request target must not contain a fragment.');
  let pathPart = target;
  if (!pathPart.startsWith('/')) {
    // Absolute form: take the raw, still-encoded path so the dot-segment checks below see it as sent
    // (URL parsing would resolve '..' away first).
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*(\/[^?]*)?/iu.exec(pathPart);
    if (match === null) throw new DavError(400, 'The request target is not a valid URL.');
    pathPart = match[1] ?? '/';
  }
  const query = pathPart.indexOf('?');
  if (query !== -1) pathPart = pathPart.slice(0, query);
  const raw = pathPart.split('/');
  const segments: string[] = [];
  for (const piece of raw) {
    if (piece === '') continue;
    // Without a '%' there is nothing to decode (decodeURIComponent would return the piece as it is).
    let decoded = piece;
    if (piece.includes('%')) {
      try {
        decoded = decodeURIComponent(piece);
      } catch {
        throw new DavError(400, 'The request path has malformed percent-encoding.');
      }
    }
    if (decoded === '.' || decoded === '..' || FORBIDDEN_SEGMENT.test(decoded)) {
      throw new DavError(400, 'The request path contains a forbidden segment.');
    }
    segments.push(decoded);
  }
  return { segments, trailingSlash: pathPart.endsWith('/') };
}

/** '/a/b/' from ['a','b'] (collections always end in '/'). */
export function collectionPath(segments: readonly string[]): string {
  return segments.length === 0 ? '/' : `/${segments.join('/')}/`;
}

/** Percent-encodes a decoded path for use in an href or Location header. */
const NOTHING_TO_ENCODE = /^[A-Za-z0-9._~/-]*$/u;

export function encodePath(path: string): string {
  // Most names (UUIDs with .ics/.vcf) need no encoding; a listing encodes thousands of hrefs.
  if (NOTHING_TO_ENCODE.test(path)) return path;
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/gu, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}
