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
  /**
   * The value as character data already escaped and encoded as UTF-8 (escapeUtf8Text), written as
   * it is; wins over value. Only a MultistatusBuilder finished with finishBytes() can write it.
   */
  readonly bytes?: Uint8Array;
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

export interface MultistatusOptions {
  readonly syncToken?: string;
  readonly description?: string;
}

/**
 * Builds one 207 body response by response, so a listing can be written as its members are
 * evaluated (and the event loop served in between) instead of first collecting every response.
 * Nothing is sent until `finish()` (or `finishBytes()`) returns the whole document.
 */
export class MultistatusBuilder {
  readonly #writer = new XmlWriter();
  readonly #d: string;
  readonly #rootName: string;
  // The status elements of a document repeat thousands of times; each is rendered once.
  readonly #statuses = new Map<number, string>();
  // Parts already encoded (see flush), in document order after the root's start tag.
  readonly #encoded: Buffer[] = [];
  #finished = false;

  constructor() {
    // Naming the root first makes DAV: the first namespace assigned (so 'd', declared first); the
    // structural markup below is written as raw strings with that prefix.
    this.#rootName = this.#writer.elementName(dav('multistatus'));
    this.#d = this.#rootName.slice(0, this.#rootName.indexOf(':'));
    this.#writer.raw(`${XML_DECLARATION}<${this.#rootName}`);
    this.#writer.declarationSlot();
    this.#writer.raw('>');
  }

  add(response: MultistatusResponse): void {
    if (this.#finished) throw new Error('multistatus already finished');
    writeResponse(this.#writer, this.#d, response, this.#statuses, this.#addBytes);
  }

  // Bytes go between the text written before them (encoded first) and the text after.
  readonly #addBytes = (bytes: Uint8Array): void => {
    this.flush();
    this.#encoded.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };

  /** Moves the responses added so far out of the JS heap, as UTF-8 bytes. */
  flush(): void {
    const text = this.#writer.takeAfterSlot();
    if (text !== '') this.#encoded.push(Buffer.from(text, 'utf8'));
  }

  /** The prefix DAV: names are written with; markup made by another builder fits only if it is the same. */
  get davPrefix(): string {
    return this.#d;
  }

  /** How many encoded parts there are (after flush()), to take the ones added later with encodedSince. */
  get encodedParts(): number {
    return this.#encoded.length;
  }

  /** The encoded parts from `index` on: response markup another answer may reuse with addEncoded. */
  encodedSince(index: number): Buffer[] {
    return this.#encoded.slice(index);
  }

  /** Appends responses already encoded (by a builder with the same davPrefix, using no other namespace). */
  addEncoded(parts: readonly Buffer[]): void {
    if (this.#finished) throw new Error('multistatus already finished');
    this.flush();
    this.#encoded.push(...parts);
  }

  /** The whole document as UTF-8 bytes, for answers built with `flush()`. */
  finishBytes(options?: MultistatusOptions): Buffer {
    this.flush();
    this.#close(options);
    const { head, tail } = this.#writer.finishAroundSlot();
    return Buffer.concat([Buffer.from(head, 'utf8'), ...this.#encoded, Buffer.from(tail, 'utf8')]);
  }

  finish(options?: MultistatusOptions): string {
    if (this.#encoded.length > 0) throw new Error('a flushed multistatus is finished with finishBytes()');
    this.#close(options);
    return this.#writer.finish();
  }

  #close(options: MultistatusOptions | undefined): void {
    if (this.#finished) throw new Error('multistatus already finished');
    this.#finished = true;
    const writer = this.#writer;
    const d = this.#d;
    if (options?.description !== undefined) writeDescription(writer, d, options.description);
    // RFC 6578 §6.4: the sync-token follows every response and the responsedescription.
    if (options?.syncToken !== undefined) {
      writer.raw(`<${d}:sync-token>${escapeText(options.syncToken)}</${d}:sync-token>`);
    }
    writer.raw(`</${this.#rootName}>`);
  }
}

export function writeMultistatus(responses: Iterable<MultistatusResponse>, options?: MultistatusOptions): string {
  const builder = new MultistatusBuilder();
  for (const response of responses) builder.add(response);
  return builder.finish(options);
}

/** A DAV:error body (RFC 4918 §16) carrying the given precondition/postcondition elements. */
export function writeError(conditions: readonly XmlElement[]): string {
  return xmlDocument(el(DAV_ERROR, ...conditions));
}

function statusElement(d: string, status: number, cache: Map<number, string>): string {
  let markup = cache.get(status);
  if (markup === undefined) {
    markup = `<${d}:status>${statusLine(status)}</${d}:status>`;
    cache.set(status, markup);
  }
  return markup;
}

// Markup is gathered into one string per response and handed to the writer whole; only subtrees
// (elements in property values, errors) go through the writer's element serializer.
function writeResponse(writer: XmlWriter, d: string, response: MultistatusResponse, statuses: Map<number, string>, addBytes: (bytes: Uint8Array) => void): void {
  const propstats = response.propstats ?? [];
  // RFC 4918 §14.24: a response is either href + status or href + propstat+, never both or neither.
  if (propstats.length > 0 && response.status !== undefined) {
    throw new Error(`multistatus response for ${response.href} has both status and propstats`);
  }
  if (propstats.length === 0 && response.status === undefined) {
    throw new Error(`multistatus response for ${response.href} has neither status nor propstats`);
  }

  let out = `<${d}:response><${d}:href>${escapeText(response.href)}</${d}:href>`;
  if (response.status !== undefined) out += statusElement(d, response.status, statuses);
  for (const propstat of propstats) {
    out += `<${d}:propstat>`;
    if (propstat.props.length === 0) {
      out += `<${d}:prop/>`;
    } else {
      out += `<${d}:prop>`;
      for (const prop of propstat.props) out = writeProp(writer, prop, out, addBytes);
      out += `</${d}:prop>`;
    }
    out += statusElement(d, propstat.status, statuses);
    if (propstat.error !== undefined) out = writeErrorElement(writer, propstat.error, out);
    if (propstat.description !== undefined) out += description(d, propstat.description);
    out += `</${d}:propstat>`;
  }
  if (response.error !== undefined) out = writeErrorElement(writer, response.error, out);
  if (response.description !== undefined) out += description(d, response.description);
  writer.raw(`${out}</${d}:response>`);
}

/** Appends one property to the pending markup `out`; returns what is still pending. */
function writeProp(writer: XmlWriter, prop: PropResult, out: string, addBytes: (bytes: Uint8Array) => void): string {
  if (prop.element !== undefined) {
    writer.raw(out);
    writer.element(prop.element);
    return '';
  }
  if (prop.bytes !== undefined) {
    const qname = writer.elementName(prop.name);
    writer.raw(`${out}<${qname}>`);
    addBytes(prop.bytes);
    return `</${qname}>`;
  }
  const value = prop.value ?? [];
  const qname = writer.elementName(prop.name);
  if (value.length === 0) return `${out}<${qname}/>`;
  out += `<${qname}>`;
  for (const node of value) {
    if (node.type === 'text') {
      out += escapeText(node.text);
    } else {
      writer.raw(out);
      writer.element(node);
      out = '';
    }
  }
  return `${out}</${qname}>`;
}

// Callers may hand over either the condition element itself or a complete DAV:error wrapping it.
function writeErrorElement(writer: XmlWriter, error: XmlElement, out: string): string {
  writer.raw(out);
  writer.element(error.name === DAV_ERROR ? error : el(DAV_ERROR, error));
  return '';
}

function description(d: string, text: string): string {
  return `<${d}:responsedescription>${escapeText(text)}</${d}:responsedescription>`;
}

function writeDescription(writer: XmlWriter, d: string, text: string): void {
  writer.raw(description(d, text));
}
