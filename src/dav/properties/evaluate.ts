// Computes the propstats for one resource from a PROPFIND-style request: live properties from the
// plugins, then dead properties from the store, only fetching what was asked for.
// Imports DAV types and the XML layer only.
import type { PropertyTarget } from '../../store/types.ts';
import type { RequestContext } from '../plugin.ts';
import type { Resource } from '../resource.ts';
import type { ClarkName } from '../xml/names.ts';
import type { PropResult, PropStat } from '../xml/multistatus.ts';
import { parseXml } from '../xml/parse.ts';
import type { XmlElement } from '../xml/tree.ts';

export type PropRequest =
  | { readonly kind: 'prop'; readonly names: readonly ClarkName[] }
  | { readonly kind: 'allprop'; readonly include: readonly ClarkName[] }
  | { readonly kind: 'propname' };

export function propertyTarget(resource: Resource): PropertyTarget | undefined {
  if (resource.kind === 'collection') return { kind: 'collection', collectionId: resource.collection.id };
  if (resource.kind === 'object') return { kind: 'object', objectId: resource.object.id };
  return undefined;
}

/** Stored dead properties of a resource, parsed back into their elements (attributes included). */
export async function deadProperties(context: RequestContext, resource: Resource): Promise<Map<ClarkName, XmlElement>> {
  const target = propertyTarget(resource);
  const out = new Map<ClarkName, XmlElement>();
  if (target === undefined) return out;
  for (const stored of await context.store.getProperties(target)) {
    out.set(stored.name as ClarkName, parseXml(stored.xml));
  }
  return out;
}

// A listing evaluates the same request for every member: its names are deduplicated once.
const distinct = new WeakMap<PropRequest, ClarkName[]>();
function distinctNames(request: PropRequest & { readonly kind: 'prop' }): ClarkName[] {
  let names = distinct.get(request);
  if (names === undefined) {
    names = [...new Set(request.names)];
    distinct.set(request, names);
  }
  return names;
}

export async function evaluateProperties(context: RequestContext, resource: Resource, request: PropRequest, minimal: boolean): Promise<PropStat[]> {
  const registry = context.registry;
  const found: PropResult[] = [];
  const missing: PropResult[] = [];

  if (request.kind === 'propname') {
    const names = new Set<ClarkName>(registry.liveProperties(resource).filter((p) => p.get !== undefined).map((p) => p.name));
    for (const name of (await deadProperties(context, resource)).keys()) names.add(name);
    return [{ status: 200, props: [...names].map((name) => ({ name })) }];
  }

  let names: ClarkName[];
  let dead: Map<ClarkName, XmlElement> | undefined;
  if (request.kind === 'allprop') {
    dead = await deadProperties(context, resource);
    const live = registry.liveProperties(resource).filter((p) => p.inAllprop && p.get !== undefined).map((p) => p.name);
    names = [...new Set([...live, ...dead.keys(), ...request.include])];
  } else {
    names = distinctNames(request);
  }

  for (const name of names) {
    const live = registry.liveProperty(name, resource);
    if (live?.get !== undefined) {
      const value = await live.get(context, resource);
      if (value === undefined) missing.push({ name });
      else found.push({ name, value });
      continue;
    }
    dead ??= await deadProperties(context, resource);
    const element = dead.get(name);
    if (element === undefined) missing.push({ name });
    else found.push({ name, element });
  }

  const propstats: PropStat[] = [];
  if (found.length > 0) propstats.push({ status: 200, props: found });
  if (missing.length > 0 && !minimal) propstats.push({ status: 404, props: missing });
  return propstats;
}
