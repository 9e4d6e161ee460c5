// Shared by the CalDAV and CardDAV reports: their data property (calendar-data, address-data) depends
// on the element that asked for it (component selection, version), so it is split from the other
// properties, rendered by the protocol, and merged back into the 200 propstat.
import { parsePropRequest, wantsMinimal } from '../methods/propfind.ts';
import type { RequestContext } from '../plugin.ts';
import type { Resource } from '../resource.ts';
import { dav, type ClarkName } from '../xml/names.ts';
import { escapeUtf8Text } from '../xml/escape.ts';
import type { MultistatusResponse, PropResult, PropStat } from '../xml/multistatus.ts';
import { childElements, findChild, type XmlElement } from '../xml/tree.ts';
import { evaluateProperties, type PropRequest } from './evaluate.ts';

/** The report's property request without the data property, and the data element if it was asked for. */
export function splitDataProperty(body: XmlElement, dataName: ClarkName): { props: PropRequest; dataElement: XmlElement | undefined } {
  const props = parsePropRequest({ ...body, name: dav('propfind') });
  if (props.kind !== 'prop') return { props, dataElement: undefined };
  const prop = findChild(body, dav('prop'));
  const dataElement = prop === undefined ? undefined : childElements(prop).find((e) => e.name === dataName);
  if (dataElement === undefined) return { props, dataElement: undefined };
  return { props: { kind: 'prop', names: props.names.filter((n) => n !== dataName) }, dataElement };
}

/**
 * Rendered text goes through the writer's escaping; stored UTF-8 bytes sent as they are (render gave
 * a Uint8Array) are escaped as bytes, never decoded, unless only the text path can escape them. Either
 * way the bytes on the wire are the same; a response holding bytes must be finished with finishBytes().
 */
function dataEntry(name: ClarkName, rendered: string | Uint8Array): PropResult {
  if (typeof rendered === 'string') return { name, value: [{ type: 'text', text: rendered }] };
  const bytes = escapeUtf8Text(rendered);
  if (bytes !== undefined) return { name, bytes };
  return { name, value: [{ type: 'text', text: Buffer.from(rendered.buffer, rendered.byteOffset, rendered.byteLength).toString('utf8') }] };
}

export async function responseWithData(
  context: RequestContext,
  resource: Resource,
  href: string,
  props: PropRequest,
  data: { readonly name: ClarkName; readonly render: () => string | Uint8Array } | undefined,
): Promise<MultistatusResponse> {
  const propstats: PropStat[] = await evaluateProperties(context, resource, props, wantsMinimal(context));
  if (data !== undefined) {
    const entry = dataEntry(data.name, data.render());
    const index = propstats.findIndex((p) => p.status === 200);
    const found = propstats[index];
    if (found === undefined) propstats.unshift({ status: 200, props: [entry] });
    else propstats[index] = { ...found, props: [...found.props, entry] };
  }
  return { href, propstats: propstats.length > 0 ? propstats : [{ status: 200, props: [] }] };
}
