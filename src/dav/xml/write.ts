// Serializes XmlElement trees to XML text in one linear pass, declaring every namespace on the root.
// Imports only the other src/dav/xml modules; must not import the parser.
import { escapeAttribute, escapeText } from './escape.ts';
import type { ClarkName } from './names.ts';
import { PrefixAllocator } from './prefixes.ts';
import type { XmlElement } from './tree.ts';

export { escapeAttribute, escapeText };

export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n';

interface OpenFrame {
  readonly element: XmlElement;
  readonly qname: string;
  next: number;
}

/**
 * Accumulates one document as chunks joined once at the end. Prefixes are assigned as names are met;
 * the root's xmlns declarations go into a slot reserved by `declarationSlot()` and filled by `finish()`.
 */
export class XmlWriter {
  readonly #chunks: string[] = [];
  readonly #prefixes: PrefixAllocator;
  // DAV bodies repeat the same few names thousands of times; qualify each one once.
  readonly #elementNames = new Map<ClarkName, string>();
  readonly #attributeNames = new Map<ClarkName, string>();
  #slot = -1;

  constructor(inScope?: ReadonlyMap<string, string>) {
    this.#prefixes = new PrefixAllocator(inScope);
  }

  /** Appends markup that is already escaped and uses already-assigned prefixes. */
  raw(markup: string): void {
    this.#chunks.push(markup);
  }

  /** Reserves the spot (inside the root start tag) where all namespace declarations will be written. */
  declarationSlot(): void {
    if (this.#slot >= 0) throw new Error('declaration slot already reserved');
    this.#slot = this.#chunks.length;
    this.#chunks.push('');
  }

  /** The qualified name to write for an element name, assigning a prefix on first use. */
  elementName(name: ClarkName): string {
    let qname = this.#elementNames.get(name);
    if (qname === undefined) {
      qname = this.#qualify(name);
      this.#elementNames.set(name, qname);
    }
    return qname;
  }

  text(value: string): void {
    this.#chunks.push(escapeText(value));
  }

  /** Writes a whole subtree; with `isRoot` its start tag receives the declaration slot. */
  element(root: XmlElement, isRoot = false): void {
    const chunks = this.#chunks;
    // An explicit stack instead of recursion: constructed trees have no depth limit.
    const stack: OpenFrame[] = [];
    const open = (element: XmlElement, withSlot: boolean): void => {
      const qname = this.elementName(element.name);
      chunks.push('<', qname);
      for (const [name, value] of element.attributes) {
        chunks.push(' ', this.#attributeName(name), '="', escapeAttribute(value), '"');
      }
      if (withSlot) this.declarationSlot();
      if (element.children.length === 0) {
        chunks.push('/>');
      } else {
        chunks.push('>');
        stack.push({ element, qname, next: 0 });
      }
    };

    open(root, isRoot);
    for (let frame = stack.at(-1); frame !== undefined; frame = stack.at(-1)) {
      const child = frame.element.children[frame.next++];
      if (child === undefined) {
        chunks.push('</', frame.qname, '>');
        stack.pop();
      } else if (child.type === 'text') {
        chunks.push(escapeText(child.text));
      } else {
        open(child, false);
      }
    }
  }

  /**
   * Removes and returns the markup written after the declaration slot, so a long document can be
   * handed on in parts; the parts, in order, then `finish()`'s text around them make the document.
   */
  takeAfterSlot(): string {
    if (this.#slot < 0) throw new Error('no declaration slot reserved');
    const taken = this.#chunks.splice(this.#slot + 1).join('');
    return taken;
  }

  finish(): string {
    if (this.#slot >= 0) this.#chunks[this.#slot] = this.#prefixes.declarations();
    return this.#chunks.join('');
  }

  /** Like finish(), split at the end of the declaration slot: the parts taken earlier go in between. */
  finishAroundSlot(): { readonly head: string; readonly tail: string } {
    if (this.#slot < 0) throw new Error('no declaration slot reserved');
    this.#chunks[this.#slot] = this.#prefixes.declarations();
    return { head: this.#chunks.slice(0, this.#slot + 1).join(''), tail: this.#chunks.slice(this.#slot + 1).join('') };
  }

  #attributeName(name: ClarkName): string {
    let qname = this.#attributeNames.get(name);
    if (qname === undefined) {
      qname = this.#qualify(name);
      this.#attributeNames.set(name, qname);
    }
    return qname;
  }

  #qualify(name: ClarkName): string {
    const { namespace, local } = splitName(name);
    const prefix = this.#prefixes.prefixFor(namespace);
    return prefix === '' ? local : `${prefix}:${local}`;
  }
}

// Local names cannot contain '}', namespace URIs in theory can: split at the last brace.
function splitName(name: string): { namespace: string; local: string } {
  if (!name.startsWith('{')) return { namespace: '', local: name };
  const close = name.lastIndexOf('}');
  return { namespace: name.slice(1, close), local: name.slice(close + 1) };
}

export function serializeElement(element: XmlElement, inScope?: ReadonlyMap<string, string>): string {
  const writer = new XmlWriter(inScope);
  writer.element(element, true);
  return writer.finish();
}

export function xmlDocument(root: XmlElement): string {
  return XML_DECLARATION + serializeElement(root);
}
