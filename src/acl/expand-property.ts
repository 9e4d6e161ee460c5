// DAV:expand-property REPORT (RFC 3253 §3.8): the properties a client names, where each DAV:href in
// the value of a property whose DAV:property element has children is replaced by a DAV:response with
// those children evaluated on the resource at that href. Every href is resolved as the requesting user
// (src/dav/resolve.ts), so another user's resource answers 404 exactly like one that does not exist.
// Imports the DAV core only; registered by the ACL plugin (principals are what clients expand).
import { DavError } from '../dav/errors.ts';
import { wantsMinimal } from '../dav/methods/propfind.ts';
import type { ReportDefinition, RequestContext } from '../dav/plugin.ts';
import { evaluateProperties } from '../dav/properties/evaluate.ts';
import { encodePath, parseTarget } from '../dav/paths.ts';
import { xmlResponse, type DavResponse } from '../dav/request.ts';
import { resolveResource } from '../dav/resolve.ts';
import type { Resource } from '../dav/resource.ts';
import { clark, dav, type ClarkName } from '../dav/xml/names.ts';
import { statusLine, writeMultistatus, type PropResult, type PropStat } from '../dav/xml/multistatus.ts';
import { attr, childElements, el, textContent, type XmlElement, type XmlNode } from '../dav/xml/tree.ts';

/** Levels of nested DAV:property elements accepted (a principal's home's owner's home is 3). */
export const MAX_EXPAND_DEPTH = 4;
/** Hrefs followed in one report; past this each further href answers 507 instead of its properties. */
export const MAX_FOLLOWED_HREFS = 200;

/** One requested property and what to expand inside its value. */
interface PropertySpec {
  readonly name: ClarkName;
  readonly children: readonly PropertySpec[];
}

function parseSpecs(parent: XmlElement, depth: number): PropertySpec[] {
  const specs: PropertySpec[] = [];
  for (const child of childElements(parent)) {
    if (child.name !== dav('property')) continue;
    const local = attr(child, 'name');
    if (local === undefined || local === '') throw new DavError(400, 'DAV:property needs a name attribute.');
    // RFC 3253 §3.8: the namespace attribute defaults to "DAV:".
    const name = clark(attr(child, 'namespace') ?? 'DAV:', local);
    const nested = childElements(child).some((e) => e.name === dav('property'));
    if (nested && depth >= MAX_EXPAND_DEPTH) throw new DavError(400, `expand-property nests DAV:property elements more than ${MAX_EXPAND_DEPTH} levels deep.`);
    specs.push({ name, children: nested ? parseSpecs(child, depth + 1) : [] });
  }
  return specs;
}

interface Walk {
  readonly context: RequestContext;
  readonly minimal: boolean;
  followed: number;
}

/** The propstats of `specs` on `resource`, hrefs inside expandable values replaced by responses. */
async function expandOn(walk: Walk, resource: Resource, specs: readonly PropertySpec[]): Promise<PropStat[]> {
  const names = [...new Set(specs.map((s) => s.name))];
  const propstats = await evaluateProperties(walk.context, resource, { kind: 'prop', names }, walk.minimal);
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: PropStat[] = [];
  for (const propstat of propstats) {
    if (propstat.status !== 200) {
      out.push(propstat);
      continue;
    }
    const props: PropResult[] = [];
    for (const prop of propstat.props) {
      const spec = byName.get(prop.name);
      if (spec === undefined || spec.children.length === 0) {
        props.push(prop);
        continue;
      }
      const value = prop.element?.children ?? prop.value ?? [];
      props.push({ name: prop.name, value: await expandValue(walk, value, spec.children) });
    }
    out.push({ ...propstat, props });
  }
  return out;
}

async function expandValue(walk: Walk, value: readonly XmlNode[], specs: readonly PropertySpec[]): Promise<XmlNode[]> {
  const out: XmlNode[] = [];
  for (const node of value) {
    if (node.type === 'element' && node.name === dav('href')) out.push(await followHref(walk, textContent(node).trim(), specs));
    else out.push(node);
  }
  return out;
}

/** The DAV:response standing for one href: its properties, or a status when it cannot be shown. */
async function followHref(walk: Walk, href: string, specs: readonly PropertySpec[]): Promise<XmlElement> {
  const hrefElement = el(dav('href'), href);
  if (++walk.followed > MAX_FOLLOWED_HREFS) return el(dav('response'), hrefElement, el(dav('status'), statusLine(507)));
  const resource = await resolveHref(walk.context, href);
  // Not there, not this user's, or not a URL of this server: all look the same from outside.
  if (resource === null) return el(dav('response'), hrefElement, el(dav('status'), statusLine(404)));
  const propstats = await expandOn(walk, resource, specs);
  const children: XmlElement[] = propstats.map((p) => el(dav('propstat'),
    el(dav('prop'), ...p.props.map(propElement)),
    el(dav('status'), statusLine(p.status))));
  // RFC 4918 §14.24: a response has a status or at least one propstat (minimal may have left none).
  if (children.length === 0) children.push(el(dav('propstat'), el(dav('prop')), el(dav('status'), statusLine(200))));
  return el(dav('response'), el(dav('href'), encodePath(resource.path)), ...children);
}

async function resolveHref(context: RequestContext, href: string): Promise<Resource | null> {
  try {
    return await resolveResource(context.store, context.user, parseTarget(href));
  } catch (error) {
    if (error instanceof DavError) return null;
    throw error;
  }
}

function propElement(prop: PropResult): XmlElement {
  return prop.element ?? el(prop.name, ...(prop.value ?? []));
}

async function expandProperty(context: RequestContext, resource: Resource, body: XmlElement): Promise<DavResponse> {
  const specs = parseSpecs(body, 1);
  const walk: Walk = { context, minimal: wantsMinimal(context), followed: 0 };
  const propstats = await expandOn(walk, resource, specs);
  return xmlResponse(207, writeMultistatus([{ href: encodePath(resource.path), propstats: propstats.length > 0 ? propstats : [{ status: 200, props: [] }] }]));
}

export const EXPAND_PROPERTY_REPORT: ReportDefinition = {
  name: dav('expand-property'),
  appliesTo: () => true,
  handle: expandProperty,
};

