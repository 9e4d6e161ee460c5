// The part of calendar-multiget and addressbook-multiget (RFC 4791 §7.9, RFC 6352 §8.7) that is
// plain WebDAV: read the hrefs, keep those inside the user's own space, and fetch the objects they
// name, one store read per collection. Whatever is not found is answered 404 by the caller.
import { collectionPath, parseTarget } from './paths.ts';
import type { RequestContext } from './plugin.ts';
import type { Space } from './resource.ts';
import { ownsPath } from './resolve.ts';
import { dav } from './xml/names.ts';
import { childElements, textContent, type XmlElement } from './xml/tree.ts';
import type { CollectionRecord, ObjectWithBody } from '../store/types.ts';

export interface MultigetHit {
  readonly href: string;
  readonly collection: CollectionRecord;
  readonly object: ObjectWithBody;
}

/** The distinct hrefs of a multiget body, in the order the client sent them. */
export function multigetHrefs(body: XmlElement): string[] {
  return [...new Set(childElements(body).filter((e) => e.name === dav('href')).map((e) => textContent(e).trim()))];
}

/** Objects found for the hrefs (by href), within the given space of the current user only. */
export async function fetchMultiget(context: RequestContext, hrefs: readonly string[], space: Space): Promise<Map<string, MultigetHit>> {
  const wanted = new Map<string, { name: string; href: string }[]>();
  for (const href of hrefs) {
    let segments: readonly string[] = [];
    try {
      segments = parseTarget(href).segments;
    } catch {
      // A malformed href is simply not found.
    }
    const name = segments[segments.length - 1];
    if (name === undefined || segments[0] !== space || !ownsPath(context.user, segments)) continue;
    const parent = collectionPath(segments.slice(0, -1));
    const items = wanted.get(parent);
    if (items === undefined) wanted.set(parent, [{ name, href }]);
    else items.push({ name, href });
  }
  const hits = new Map<string, MultigetHit>();
  for (const [parentPath, items] of wanted) {
    const collection = await context.store.getCollection(parentPath);
    if (collection === null) continue;
    const objects = new Map((await context.store.getObjectsWithBodies(collection.id, items.map((i) => i.name))).map((o) => [o.name, o]));
    for (const item of items) {
      const object = objects.get(item.name);
      if (object !== undefined) hits.set(item.href, { href: item.href, collection, object });
    }
  }
  return hits;
}
