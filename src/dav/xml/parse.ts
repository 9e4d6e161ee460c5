// Turns untrusted request bodies into the XmlElement tree, refusing DTDs and oversized documents early.
// Imports saxes plus tree.ts/names.ts only; must not import the writer or anything outside src/dav/xml.
import { SaxesParser } from 'saxes';
import type { SaxesTagNS, XMLDecl } from 'saxes';
import type { ClarkName } from './names.ts';
import type { XmlElement, XmlNode } from './tree.ts';

export type XmlParseFailure = 'malformed' | 'doctype' | 'too-deep' | 'too-many-elements' | 'empty';

export class XmlParseError extends Error {
  readonly reason: XmlParseFailure;

  constructor(reason: XmlParseFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'XmlParseError';
    this.reason = reason;
  }
}

export interface XmlLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({ maxDepth: 64, maxElements: 100_000 });

const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const NO_ATTRIBUTES: ReadonlyMap<ClarkName, string> = new Map<ClarkName, string>();
const NOT_XML_WHITESPACE = /[^ \t\r\n]/;
// The bytes were decoded as UTF-8; any other declared encoding means we would have misread them.
const UTF8_COMPATIBLE_ENCODING = /^(utf-?8|(us-)?ascii)$/i;

interface OpenElement {
  readonly element: XmlElement;
  readonly children: XmlNode[];
}

// Small documents repeat: a client polls with the same PROPFIND body, and the same stored dead
// properties are read on every request. Their trees are kept (frozen, so no caller can change one
// another request sees), keyed by the exact text and by whether it came as bytes (which adds the
// encoding check). Documents that failed to parse are never kept.
const CACHED_MAX_CHARS = 4096;
const CACHED_MAX_ENTRIES = 512;
const parsedTrees = new Map<string, XmlElement>();

export function parseXml(input: string | Uint8Array, limits?: Partial<XmlLimits>): XmlElement {
  const fromBytes = typeof input !== 'string';
  if (limits !== undefined || (fromBytes ? input.byteLength : input.length) > CACHED_MAX_CHARS) return parseText(fromBytes ? decodeUtf8(input) : input, fromBytes, limits);
  const source = fromBytes ? decodeUtf8(input) : input;
  const key = fromBytes ? `b${source}` : `s${source}`;
  const known = parsedTrees.get(key);
  if (known !== undefined) {
    // Most recently used last, so eviction takes the coldest.
    parsedTrees.delete(key);
    parsedTrees.set(key, known);
    return known;
  }
  const root = freezeTree(parseText(source, fromBytes, undefined));
  parsedTrees.set(key, root);
  if (parsedTrees.size > CACHED_MAX_ENTRIES) {
    const coldest = parsedTrees.keys().next();
    if (coldest.done !== true) parsedTrees.delete(coldest.value);
  }
  return root;
}

function freezeTree(element: XmlElement): XmlElement {
  for (const child of element.children) {
    if (child.type === 'element') freezeTree(child);
    else Object.freeze(child);
  }
  Object.freeze(element.children);
  return Object.freeze(element);
}

function parseText(source: string, fromBytes: boolean, limits: Partial<XmlLimits> | undefined): XmlElement {
  const { maxDepth, maxElements } = { ...DEFAULT_XML_LIMITS, ...limits };

  let body = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const firstMarkup = body.search(NOT_XML_WHITESPACE);
  if (firstMarkup < 0) throw new XmlParseError('empty', 'XML body is empty');
  // Some clients emit a newline before the XML declaration. Strictly that is not well-formed, but
  // refusing it helps nobody and dropping the whitespace changes nothing about the document.
  if (firstMarkup > 0 && body.startsWith('<?xml', firstMarkup)) body = body.slice(firstMarkup);

  // saxes only reports a DOCTYPE once its whole internal subset has been buffered; refusing it here
  // keeps a hostile multi-megabyte subset from costing anything but a prolog scan.
  if (prologHasDoctype(body)) throw new XmlParseError('doctype', 'DOCTYPE declarations are not accepted');

  const stack: OpenElement[] = [];
  let root: XmlElement | undefined;
  let elementCount = 0;

  const parser = new SaxesParser({ xmlns: true });

  parser.on('error', (error) => {
    throw classifySaxesError(error);
  });
  // Backstop for anything the prolog scan does not see; saxes rejects misplaced ones as they start.
  parser.on('doctype', () => {
    throw new XmlParseError('doctype', 'DOCTYPE declarations are not accepted');
  });
  if (fromBytes) {
    parser.on('xmldecl', (decl: XMLDecl) => {
      if (decl.encoding !== undefined && !UTF8_COMPATIBLE_ENCODING.test(decl.encoding)) {
        throw new XmlParseError('malformed', `unsupported declared encoding ${JSON.stringify(decl.encoding)}`);
      }
    });
  }
  // Limits are enforced when a tag name is first seen, before its attributes are even read.
  parser.on('opentagstart', () => {
    elementCount++;
    if (elementCount > maxElements) {
      throw new XmlParseError('too-many-elements', `XML body has more than ${maxElements} elements`);
    }
    if (stack.length + 1 > maxDepth) {
      throw new XmlParseError('too-deep', `XML body nests deeper than ${maxDepth} levels`);
    }
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    const children: XmlNode[] = [];
    const element: XmlElement = {
      type: 'element',
      name: `{${tag.uri}}${tag.local}` as ClarkName,
      attributes: collectAttributes(tag),
      children,
    };
    stack.at(-1)?.children.push(element);
    stack.push({ element, children });
  });
  parser.on('closetag', () => {
    const closed = stack.pop();
    if (closed !== undefined && stack.length === 0) root = closed.element;
  });
  parser.on('text', (value: string) => appendText(stack, value));
  parser.on('cdata', (value: string) => appendText(stack, value));

  try {
    parser.write(body).close();
  } catch (error) {
    if (error instanceof XmlParseError) throw error;
    throw classifySaxesError(error);
  }
  if (root === undefined) throw new XmlParseError('malformed', 'XML body has no root element');
  return root;
}

// One decoder for every call: decode() without { stream: true } keeps no state between calls.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    // TextDecoder drops a leading UTF-8 BOM by default.
    return UTF8.decode(bytes);
  } catch (error) {
    throw new XmlParseError('malformed', 'XML body is not valid UTF-8', { cause: error });
  }
}

/** True when a DOCTYPE follows only whitespace, the XML declaration, PIs and comments. */
function prologHasDoctype(source: string): boolean {
  let i = 0;
  for (;;) {
    while (i < source.length && isXmlSpace(source.charCodeAt(i))) i++;
    if (source.startsWith('<?', i)) {
      const end = source.indexOf('?>', i + 2);
      if (end < 0) return false;
      i = end + 2;
    } else if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i + 4);
      if (end < 0) return false;
      i = end + 3;
    } else {
      // Case-insensitive on purpose: a lowercase doctype is malformed anyway, but naming it helps clients.
      return source.slice(i, i + 9).toUpperCase() === '<!DOCTYPE';
    }
  }
}

function isXmlSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function collectAttributes(tag: SaxesTagNS): ReadonlyMap<ClarkName, string> {
  let map: Map<ClarkName, string> | undefined;
  for (const attribute of Object.values(tag.attributes)) {
    if (attribute.uri === XMLNS_NAMESPACE) continue;
    map ??= new Map<ClarkName, string>();
    map.set(`{${attribute.uri}}${attribute.local}` as ClarkName, attribute.value);
  }
  return map ?? NO_ATTRIBUTES;
}

// Adjacent text (split by a dropped comment, or text next to CDATA) becomes one node, so a parsed tree
// has the same shape as the tree re-parsed from its serialization.
function appendText(stack: readonly OpenElement[], value: string): void {
  const open = stack.at(-1);
  if (open === undefined || value === '') return;
  const last = open.children.at(-1);
  if (last?.type === 'text') {
    open.children[open.children.length - 1] = { type: 'text', text: last.text + value };
  } else {
    open.children.push({ type: 'text', text: value });
  }
}

function classifySaxesError(error: unknown): XmlParseError {
  const message = error instanceof Error ? error.message : String(error);
  const reason: XmlParseFailure = /doctype/i.test(message) ? 'doctype' : 'malformed';
  return new XmlParseError(reason, message, { cause: error });
}
