// Maps a decoded path to a Resource for the authenticated user. Another user's paths resolve to
// nothing at all (the caller answers 404), so existence never leaks across accounts.
// Imports store interface types and DAV path helpers only.
import type { Store } from '../store/store.ts';
import type { UserRecord } from '../store/types.ts';
import { collectionPath, type ParsedPath } from './paths.ts';
import { principalPath, SPACES, type Resource, type Space } from './resource.ts';

export function isSpace(segment: string | undefined): segment is Space {
  return (SPACES as readonly string[]).includes(segment ?? '');
}

/** Whether a path lies inside the user's own part of the URL space (their principal or a home). */
export function ownsPath(user: UserRecord, segments: readonly string[]): boolean {
  if (segments.length < 2) return false;
  return (segments[0] === 'principals' || isSpace(segments[0])) && segments[1] === user.name;
}

/** The root, the top-level folders everyone shares, and the user's own space; nothing else. */
export function isVisibleTo(user: UserRecord, segments: readonly string[]): boolean {
  if (segments.length === 0) return true;
  if (segments.length === 1) return segments[0] === 'principals' || isSpace(segments[0]);
  return ownsPath(user, segments);
}

/**
 * `withBody` reads an object's body with it (for GET, which would read it next anyway): the resource's
 * `object` is then an ObjectWithBody.
 */
export async function resolveResource(store: Store, user: UserRecord, parsed: ParsedPath, withBody = false): Promise<Resource | null> {
  const { segments } = parsed;
  const [first, second] = segments;
  if (segments.length === 0) return { kind: 'root', path: '/' };
  if (segments.length === 1) {
    if (first === 'principals') return { kind: 'principals', path: '/principals/' };
    if (isSpace(first)) return { kind: 'space', path: `/${first}/`, space: first };
    return null;
  }
  if (second !== user.name) return null;
  if (first === 'principals') {
    return segments.length === 2 ? { kind: 'principal', path: principalPath(user.name), user } : null;
  }
  if (!isSpace(first)) return null;
  const asCollection = collectionPath(segments);
  if (!parsed.trailingSlash && segments.length > 2) {
    const name = segments[segments.length - 1] ?? '';
    const member = await store.getMember(collectionPath(segments.slice(0, -1)), name, withBody);
    if (member === null) return null;
    const { collection: parent, object } = member;
    if (object !== null) return { kind: 'object', path: `${parent.path}${name}`, collection: parent, object };
  }
  const collection = await store.getCollection(asCollection);
  if (collection !== null) return { kind: 'collection', path: collection.path, collection };
  return null;
}
