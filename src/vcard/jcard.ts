// Typed access to the jCard (RFC 7095) arrays ical.js builds for a vCard, and the one text form of a
// property value that both write-time indexing and addressbook-query matching use. Imports ical.js
// types only, nothing of ours.
import type ICAL from 'ical.js';

/** A value: text, number or boolean, or (structured values) components that may be lists. */
export type JValue = string | number | boolean | readonly JValue[];
/** Parameters as ical.js keeps them: lower-case names, a string or (multi-valued, repeated) arrays. */
export type JParams = Readonly<Record<string, string | readonly JValue[]>>;
/** `[name, params, valueType, ...values]`; name lower case and without its group (params.group). */
export type JProp = readonly [string, JParams, string, ...JValue[]];

/** The properties of a parsed vCard as jCard arrays (shared with the component: do not mutate). */
export function jProps(card: ICAL.Component): readonly JProp[] {
  return card.getAllProperties().map((prop) => prop.toJSON() as JProp);
}

export function propName(prop: JProp): string {
  return prop[0];
}

export function propType(prop: JProp): string {
  return prop[2];
}

export function propValues(prop: JProp): readonly JValue[] {
  return prop.slice(3) as JValue[];
}

/** The property group (`item1` of `item1.EMAIL`, lower case), if any. */
export function propGroup(prop: JProp): string | undefined {
  const group = prop[1]['group'];
  return typeof group === 'string' ? group : undefined;
}

/** Every value of parameter `name` (lower case), flattened: `TYPE=a,b;TYPE=c` gives a, b, c. */
export function paramValues(params: JParams, name: string): string[] {
  const value = params[name];
  if (value === undefined) return [];
  return flatten(value);
}

function flatten(value: JValue): string[] {
  return Array.isArray(value) ? (value as readonly JValue[]).flatMap(flatten) : [String(value)];
}

/** The names of the real parameters of a property (ical.js keeps the group among them). */
export function paramNames(params: JParams): string[] {
  return Object.keys(params).filter((name) => name !== 'group');
}

/**
 * Undo vCard text escaping (RFC 6350 §3.4, RFC 2426 §4): `\\`, `\,`, `\;`, `\n`/`\N`. Used for values
 * ical.js leaves raw (unknown property types) and for the `\;` it keeps in unstructured text.
 */
export function unescapeText(value: string): string {
  return value.replace(/\\([\\,;nN])/g, (_all, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

/** One scalar value as unescaped text (raw `unknown` values unescaped, ical.js's leftover `\;` undone). */
export function plainText(value: JValue, type: string): string {
  if (Array.isArray(value)) return (value as readonly JValue[]).map((v) => plainText(v, type)).join(',');
  const text = String(value);
  if (type === 'unknown') return unescapeText(text);
  // ical.js unescapes `\;` only inside structured values; RFC 2426 §4 escapes it in all text.
  return type === 'text' ? text.replaceAll('\\;', ';') : text;
}

/**
 * The text of one value: structured components joined with `;`, the list inside a component with `,`.
 * Arrays only occur for structured values (N, ADR, ORG, GENDER, GEO in 3.0); a string alone is a
 * structured value of one component.
 */
function valueText(value: JValue, type: string): string {
  if (!Array.isArray(value)) return plainText(value, type);
  return (value as readonly JValue[])
    .map((part) => (Array.isArray(part) ? (part as readonly JValue[]).map((v) => plainText(v, type)).join(',') : plainText(part, type)))
    .join(';');
}

/**
 * The value of a property as unescaped text, the form text-match compares against (RFC 6352 §10.5.4)
 * and the CardIndex stores: structured values (N, ADR, ORG) with their components joined by `;` and
 * the list inside a component by `,` ("Doe;John;Richter, James;Mr.;Sr."), multi-valued properties
 * (NICKNAME, CATEGORIES) joined by `,`, dates as ical.js normalises them, TEL and URIs as written
 * (a vCard 4.0 `tel:` URI keeps its scheme).
 */
export function propertyText(prop: JProp): string {
  return propValues(prop).map((value) => valueText(value, propType(prop))).join(',');
}
