// Writing vCard 3.0/4.0 text from properties whose values are already in wire form: text escaping
// (RFC 6350 §3.4, RFC 2426 §4), parameter quoting and RFC 6868 caret encoding, CRLF and 75-octet
// folding. Does not use ical.js's stringify (it escapes commas inside URIs, folds continuation lines
// to 76 octets and writes VALUE= from design defaults that disagree with the RFCs). Imports only
// src/vcard.
import { joinLines } from './content-lines.ts';

export type CardVersion = '3.0' | '4.0';

/** A property ready to write: parameter values decoded (no quoting/caret encoding yet), value escaped. */
export interface OutProp {
  readonly group: string | undefined;
  /** Lower case, as ical.js gives it; written upper case. */
  readonly name: string;
  readonly params: readonly (readonly [string, readonly string[]])[];
  /** The value exactly as it goes after the COLON. */
  readonly value: string;
}

/**
 * Escapes one text value. Both versions escape BACKSLASH, COMMA and newline; vCard 3.0 escapes
 * SEMICOLON everywhere (RFC 2426 §4 text-value), vCard 4.0 only inside the components of a compound
 * value (RFC 6350 §3.4), where writing `\;` elsewhere would be outside its grammar.
 */
export function escapeText(value: string, version: CardVersion, component: boolean): string {
  const semicolon = version === '3.0' || component;
  return value.replace(/\r\n|[\\,;\n\r]/g, (c) => {
    if (c === ';') return semicolon ? '\\;' : ';';
    if (c === '\\' || c === ',') return `\\${c}`;
    return '\\n';
  });
}

/**
 * A structured value (N, ADR, ORG, GENDER): components separated by `;`, the list inside one
 * component by `,`; `size` pads missing trailing components (N has 5, ADR 7: RFC 6350 §6.2.2, §6.3.1).
 */
export function escapeStructured(components: readonly (string | readonly string[])[], version: CardVersion, size = 0): string {
  const parts = components.map((part) =>
    (typeof part === 'string' ? [part] : part).map((v) => escapeText(v, version, true)).join(','));
  while (parts.length < size) parts.push('');
  return parts.join(';');
}

/** RFC 6868 §3: `^` → `^^`, newline → `^n`, `"` → `^'`; then quotes when the value holds `,` `;` or `:`. */
function paramValue(value: string): string {
  const encoded = value.replace(/\r\n|[\^\n\r"]/g, (c) => (c === '^' ? '^^' : c === '"' ? "^'" : '^n'));
  return /[,;:]/.test(encoded) ? `"${encoded}"` : encoded;
}

/** One logical content line, unfolded. */
export function writeProp(prop: OutProp): string {
  let line = prop.group === undefined ? prop.name.toUpperCase() : `${prop.group}.${prop.name.toUpperCase()}`;
  for (const [name, values] of prop.params) {
    if (values.length === 0) continue;
    line += `;${name.toUpperCase()}=${values.map(paramValue).join(',')}`;
  }
  return `${line}:${prop.value}`;
}

/** A whole vCard: BEGIN, the properties in order (VERSION among them, first), END; CRLF, folded. */
export function writeCard(props: readonly OutProp[]): string {
  return joinLines(['BEGIN:VCARD', ...props.map(writeProp), 'END:VCARD']);
}
