// Writes WebDAV 207 Multi-Status and DAV:error bodies (RFC 4918 §13, §14.16, §14.24, §16; RFC 6578).
// Imports only the other src/dav/xml modules and node:http; must not import the parser.
import { STATUS_CODES } from 'node:http';
import { dav } from './names.ts';
import type { ClarkName } from './names.ts';
import { el } from './tree.ts';
import type { XmlElement, XmlNode } from './tree.ts';
import { XML_DECLARATION, XmlWriter, escapeText, xmlDocument } from './write.ts';

export interface PropResult {
  readonly name: ClarkName;
  /** Omitted → the property is written as an empty element. */
  readonly value?: readonly XmlNode[];
  /** The whole property element, attributes included (a stored dead property); wins over value. */
  readonly element?: XmlElement;
}

export interface PropStat {
  readonly status: number;
  readonly props: readonly PropResult[];
  readonly error?: XmlElement;
  readonly description?: string;
}

export interface MultistatusResponse {
  /** Already percent-encoded by the caller; only XML-escaped here. */
  readonly href: string;
  readonly propstats?: readonly PropStat[];
  /** For responses without propstat, e.g. a 404 for one href of a multiget. */
  readonly status?: number;
  readonly error?: XmlElement;
  readonly description?: string;
}

// Pinned rather than taken from node:http so a Node upgrade cannot change bytes on the wire, and
// because the DAV codes are the ones clients match on.
const REASONS: ReadonlyMap<number, string> = new Map([
  [207, 'Multi-Status'],
  [208, 'Already Reported'],
  [422, 'Unprocessable Entity'],
  [423, 'Locked'],
  [424, 'Failed Dependency'],
  [507, 'Insufficient Storage'],
]);

const DAV_ERROR = dav('error');

export function statusLine(status: number): string {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`not an HTTP status code: ${status}`);
  }
  return `HTTP/1.1 ${status} ${REASONS.get(status) ?? STATUS_CODES[status] ?? 'Unknown'}`;
}

export function writeMultistatus(
  responses: Iterable<MultistatusResponse>,
  options?: { readonly syncToken?: string; readonly description?: string },
): string {
  const writer = new XmlWriter();
  // Naming the root first makes DAV: the first namespace assigned (so 'd', declared first); the
  // structural markup below is written as raw strings with that prefix.
  const rootName = writer.elementName(dav('multistatus'));
  const d = rootName.slice(0, rootName.indexOf(':'));
  writer.raw(`${XML_DECLARATION}<${rootName}`);
  writer.declarationSlot();
  writer.raw('>');

  for (const response of responses) writeResponse(writer, d, response);

  if (options?.description !== undefined) writeDescription(writer, d, options.description);
  // RFC 6578 §6.4: the sync-token follows every response and the responsedescription.
  if (options?.syncToken !== undefined) {
    writer.raw(`<${d}:sync-token>${escapeText(options.syncToken)}</${d}:sync-token>`);
  }
  writer.raw(`</${rootName}>`);
  return writer.finish();
}

/** A DAV:error body (RFC 4918 §16) carrying the given precondition/postcondition elements. */
export function writeError(conditions: readonly XmlElement[]): string {
  return xmlDocument(el(DAV_ERROR, ...conditions));
}

function writeResponse(writer: XmlWriter, d: string, response: MultistatusResponse): void {
  const propstats = response.propstats ?? [];
  // RFC 4918 §14.24: a response is either href + status or href + propstat+, never both or neither.
  if (propstats.length > 0 && response.status !== undefined) {
    throw new Error(`multistatus response for ${response.href} has both status and propstats`);
  }
  if (propstats.length === 0 && response.status === undefined) {
    throw new Error(`multistatus response for ${response.href} has neither status nor propstats`);
  }

  writer.raw(`<${d}:response><${d}:href>${escapeText(response.href)}</${d}:href>`);
  if (response.status !== undefined) {
    writer.raw(`<${d}:status>${statusLine(response.status)}</${d}:status>`);
  }
  for (const propstat of propstats) writePropstat(writer, d, propstat);
  if (response.error !== undefined) writeErrorElement(writer, response.error);
  if (response.description !== undefined) writeDescription(writer, d, response.description);
  writer.raw(`</${d}:response>`);
}

function writePropstat(writer: XmlWriter, d: string, propstat: PropStat): void {
  writer.raw(`<${d}:propstat>`);
  if (propstat.props.length === 0) {
    writer.raw(`<${d}:prop/>`);
  } else {
    writer.raw(`<${d}:prop>`);
    for (const prop of propstat.props) writeProp(writer, prop);
    writer.raw(`</${d}:prop>`);
  }
  writer.raw(`<${d}:status>${statusLine(propstat.status)}</${d}:status>`);
  if (propstat.error !== undefined) writeErrorElement(writer, propstat.error);
  if (propstat.description !== undefined) writeDescription(writer, d, propstat.description);
  writer.raw(`</${d}:propstat>`);
}

function writeProp(writer: XmlWriter, prop: PropResult): void {
  if (prop.element !== undefined) {
    writer.element(prop.element);
    return;
  }
  const value = prop.value ?? [];
  const qname = writer.elementName(prop.name);
  if (value.length === 0) {
    writer.raw(`<${qname}/>`);
    return;
  }
  writer.raw(`<${qname}>`);
  for (const node of value) {
    if (node.type === 'text') writer.text(node.text);
    else writer.element(node);
  }
  writer.raw(`</${qname}>`);
}

// Callers may hand over either the condition element itself or a complete DAV:error wrapping it.
function writeErrorElement(writer: XmlWriter, error: XmlElement): void {
  writer.element(error.name === DAV_ERROR ? error : el(DAV_ERROR, error));
}

function writeDescription(writer: XmlWriter, d: string, description: string): void {
  writer.raw(`<${d}:responsedescription>${escapeText(description)}</${d}:responsedescription>`);
}
