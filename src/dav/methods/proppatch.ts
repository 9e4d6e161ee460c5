// PROPPATCH (RFC 4918 §9.2): set/remove instructions applied in document order, atomically. If any
// instruction fails, nothing changes: the failing properties carry their own status and the rest 424.
import type { PropertyOperation } from '../../store/types.ts';
import { DavError } from '../errors.ts';
import type { RequestContext } from '../plugin.ts';
import { encodePath } from '../paths.ts';
import { propertyTarget } from '../properties/evaluate.ts';
import { xmlResponse, type DavResponse } from '../request.ts';
import type { Resource } from '../resource.ts';
import { dav, type ClarkName } from '../xml/names.ts';
import { writeMultistatus, type PropStat } from '../xml/multistatus.ts';
import { parseXml } from '../xml/parse.ts';
import { childElements, type XmlElement } from '../xml/tree.ts';
import { serializeElement } from '../xml/write.ts';

export interface PropertyInstruction {
  readonly op: 'set' | 'remove';
  readonly element: XmlElement;
}

export function parsePropertyUpdate(root: XmlElement, rootName: ClarkName = dav('propertyupdate')): PropertyInstruction[] {
  if (root.name !== rootName) throw new DavError(400, 'The body must be a DAV:propertyupdate element.');
  const instructions: PropertyInstruction[] = [];
  for (const child of childElements(root)) {
    const op = child.name === dav('set') ? 'set' : child.name === dav('remove') ? 'remove' : undefined;
    if (op === undefined) continue;
    for (const prop of childElements(child)) {
      if (prop.name !== dav('prop')) continue;
      for (const element of childElements(prop)) instructions.push({ op, element });
    }
  }
  return instructions;
}

/**
 * Checks each instruction against the live property definitions. Returns the failures (name → error)
 * and, when there are none, the store operations to apply.
 */
export function checkInstructions(
  context: RequestContext,
  resource: Resource,
  instructions: readonly PropertyInstruction[],
  allowProtected: ReadonlySet<ClarkName> = new Set(),
): { failures: Map<ClarkName, DavError>; operations: PropertyOperation[] } {
  const failures = new Map<ClarkName, DavError>();
  const operations: PropertyOperation[] = [];
  for (const { op, element } of instructions) {
    // A name the server computes somewhere (getetag on a folder, say) is never a dead property anywhere.
    const live = context.registry.liveProperty(element.name, resource) ?? context.registry.properties.get(element.name)?.[0];
    if (live !== undefined && (live.protected || live.get !== undefined) && !allowProtected.has(element.name)) {
      failures.set(element.name, new DavError(403, 'This property is protected.', dav('cannot-modify-protected-property')));
      continue;
    }
    if (op === 'set' && live?.validate !== undefined) {
      const problem = live.validate(element, resource);
      if (problem !== undefined) {
        failures.set(element.name, problem);
        continue;
      }
    }
    if (op === 'set') {
      operations.push(...(live?.toStored?.(element, resource) ?? [{ op: 'set', name: element.name, xml: serializeElement(element) }]));
    } else {
      operations.push({ op: 'remove', name: element.name }, ...(live?.companions ?? []).map((name) => ({ op: 'remove' as const, name })));
    }
  }
  return { failures, operations };
}

/** The propstats of a failed batch: each failure with its status, everything else 424. */
export function failedPropstats(instructions: readonly PropertyInstruction[], failures: ReadonlyMap<ClarkName, DavError>): PropStat[] {
  const propstats: PropStat[] = [];
  for (const [name, error] of failures) {
    propstats.push({ status: error.status, props: [{ name }], ...(error.condition === undefined ? {} : { error: error.condition }), description: error.message });
  }
  const dependent = [...new Set(instructions.map((i) => i.element.name))].filter((name) => !failures.has(name));
  if (dependent.length > 0) propstats.push({ status: 424, props: dependent.map((name) => ({ name })) });
  return propstats;
}

export async function proppatch(context: RequestContext, resource: Resource | null): Promise<DavResponse> {
  if (resource === null) throw new DavError(404, 'Not found.');
  const instructions = parsePropertyUpdate(parseXml(context.request.body));
  const target = propertyTarget(resource);
  if (target === undefined) {
    // Root, principals and spaces are server-defined: nothing on them is writable.
    const failures = new Map(instructions.map((i) => [i.element.name, new DavError(403, 'This resource has no writable properties.', dav('cannot-modify-protected-property'))] as const));
    return xmlResponse(207, writeMultistatus([{ href: encodePath(resource.path), propstats: failedPropstats(instructions, failures) }]));
  }
  const { failures, operations } = checkInstructions(context, resource, instructions);
  if (failures.size > 0) {
    return xmlResponse(207, writeMultistatus([{ href: encodePath(resource.path), propstats: failedPropstats(instructions, failures) }]));
  }
  if (operations.length > 0) await context.store.patchProperties(target, operations);
  const names = [...new Set(instructions.map((i) => i.element.name))];
  return xmlResponse(207, writeMultistatus([{ href: encodePath(resource.path), propstats: [{ status: 200, props: names.map((name) => ({ name })) }] }]));
}

