// The in-memory XML tree shared by the parser, the writer and every DAV handler, plus small builders
// and lookups over it. Imports only names.ts; must not import the parser or writer.
import type { ClarkName } from './names.ts';

export interface XmlElement {
  readonly type: 'element';
  readonly name: ClarkName;
  readonly attributes: ReadonlyMap<ClarkName, string>;
  readonly children: readonly XmlNode[];
}

export interface XmlText {
  readonly type: 'text';
  readonly text: string;
}

export type XmlNode = XmlElement | XmlText;

// One shared instance keeps attribute-less elements (the overwhelming majority in DAV bodies) cheap.
const NO_ATTRIBUTES: ReadonlyMap<ClarkName, string> = new Map<ClarkName, string>();

function toNodes(children: ReadonlyArray<XmlNode | string>): XmlNode[] {
  return children.map((child) => (typeof child === 'string' ? text(child) : child));
}

/** Accepts `{ns}local`, `{}local`, or a bare `local` (meaning no namespace). */
function attributeKey(name: string): ClarkName {
  return (name.startsWith('{') ? name : `{}${name}`) as ClarkName;
}

export function text(value: string): XmlText {
  return { type: 'text', text: value };
}

export function el(name: ClarkName, ...children: Array<XmlNode | string>): XmlElement {
  return { type: 'element', name, attributes: NO_ATTRIBUTES, children: toNodes(children) };
}

export function elAttrs(
  name: ClarkName,
  attributes: Record<string, string>,
  ...children: Array<XmlNode | string>
): XmlElement {
  const map = new Map<ClarkName, string>();
  for (const [key, value] of Object.entries(attributes)) map.set(attributeKey(key), value);
  return { type: 'element', name, attributes: map, children: toNodes(children) };
}

export function childElements(parent: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of parent.children) if (child.type === 'element') out.push(child);
  return out;
}

export function findChild(parent: XmlElement, name: ClarkName): XmlElement | undefined {
  for (const child of parent.children) if (child.type === 'element' && child.name === name) return child;
  return undefined;
}

export function findChildren(parent: XmlElement, name: ClarkName): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of parent.children) if (child.type === 'element' && child.name === name) out.push(child);
  return out;
}

export function textContent(node: XmlElement): string {
  const parts: string[] = [];
  // Explicit stack: constructed trees are not depth-limited like parsed ones.
  const stack: XmlNode[] = [node];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === undefined) break;
    if (current.type === 'text') {
      parts.push(current.text);
    } else {
      for (let i = current.children.length - 1; i >= 0; i--) {
        const child = current.children[i];
        if (child !== undefined) stack.push(child);
      }
    }
  }
  return parts.join('');
}

export function attr(element: XmlElement, name: string): string | undefined {
  return element.attributes.get(attributeKey(name));
}
