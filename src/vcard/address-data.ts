// RFC 6352 §10.4 address-data: the vCard text a REPORT returns, in the requested version and with only
// the requested properties. Imports ical.js types and src/vcard only.
//
// Choices:
// - No <prop> (or <allprop/>, or an empty list) selects everything; then, without a version change,
//   the stored text comes back byte for byte.
// - A selection always keeps BEGIN, END, VERSION (no vCard parses without it, RFC 6350 §6.7.9) and
//   UID (every stored card has one, RFC 6352 §5.1, and clients match on it), even when not named.
// - <prop name="EMAIL"/> selects every EMAIL, grouped ones included; "item1.EMAIL" only that group.
//   Related properties of the same group (item1.X-ABLabel) are not added.
// - novalue="yes" keeps the name and parameters with an empty value ("EMAIL;TYPE=work:"); if the same
//   name is also requested with its value, the value wins. VERSION always keeps its value.
// - Selected lines are re-folded at 75 octets with CRLF line breaks.
import type ICAL from 'ical.js';
import { joinLines, lineName, unfoldLines, valueSeparator } from './content-lines.ts';
import { cardVersion, convertCard } from './convert.ts';

/** The parsed CARDDAV:address-data element (RFC 6352 §10.4). */
export interface AddressDataRequest {
  readonly props?: readonly { readonly name: string; readonly novalue: boolean }[];
  readonly version?: '3.0' | '4.0';
  readonly allProps: boolean;
}

const ALWAYS: ReadonlySet<string> = new Set(['VERSION', 'UID']);

interface Selector {
  readonly group: string | undefined;
  readonly name: string;
  readonly novalue: boolean;
}

function selectorFor(name: string, novalue: boolean): Selector {
  const dot = name.indexOf('.');
  return dot === -1
    ? { group: undefined, name: name.toUpperCase(), novalue }
    : { group: name.slice(0, dot).toLowerCase(), name: name.slice(dot + 1).toUpperCase(), novalue };
}

/** The lines of vCard `text` that the selectors (or ALWAYS) name, in order, valued or cut after the COLON. */
function selectLines(text: string, selectors: readonly Selector[]): string {
  const out: string[] = [];
  for (const { text: line } of unfoldLines(text)) {
    const { group, name } = lineName(line);
    if (name === 'BEGIN' || name === 'END' || name === 'VERSION') {
      out.push(line);
      continue;
    }
    const hits = selectors.filter((s) => s.name === name && (s.group === undefined || s.group === group));
    if (hits.length === 0 && !ALWAYS.has(name)) continue;
    const valued = ALWAYS.has(name) && hits.length === 0 ? true : hits.some((s) => !s.novalue);
    out.push(valued ? line : line.slice(0, valueSeparator(line) + 1));
  }
  return joinLines(out);
}

/**
 * The address-data for one stored card: `text` is the stored vCard and `card` its parse (from
 * validateCard/parseCard). Unchanged bytes when everything is selected and no conversion is asked;
 * otherwise the card converted to `request.version` (RFC 6352 §10.4: the version attribute), then cut
 * down to the named properties.
 */
export function renderAddressData(text: string, card: ICAL.Component, request: AddressDataRequest): string {
  const version = request.version ?? cardVersion(card);
  const converted = convertCard(text, card, version);
  const props = request.props ?? [];
  if (request.allProps || props.length === 0) return converted;
  return selectLines(converted, props.map((p) => selectorFor(p.name, p.novalue)));
}
