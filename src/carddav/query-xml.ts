// Reads the XML of CardDAV reports: the addressbook-query filter (RFC 6352 §10.5), its limit (§8.6.1)
// and the address-data selection (§10.4), refusing malformed requests with RFC 6352's preconditions.
import { DavError } from '../dav/errors.ts';
import { carddav } from '../dav/xml/names.ts';
import { attr, childElements, findChild, textContent, type XmlElement } from '../dav/xml/tree.ts';
import { isSupportedCollation } from '../ical/text-match.ts';
import type { TextMatch } from '../ical/types.ts';
import type { AddressDataRequest } from '../vcard/address-data.ts';
import type { CardFilter, CardParamFilter, CardPropFilter } from '../vcard/filter.ts';

const MATCH_TYPES = new Set(['equals', 'contains', 'starts-with', 'ends-with']);

function invalidFilter(message: string): DavError {
  return new DavError(403, message, carddav('valid-filter'));
}

function parseTest(element: XmlElement): 'anyof' | 'allof' {
  const test = (attr(element, 'test') ?? 'anyof').toLowerCase();
  if (test !== 'anyof' && test !== 'allof') throw invalidFilter('test must be anyof or allof.');
  return test;
}

function parseTextMatch(element: XmlElement): TextMatch {
  const collation = attr(element, 'collation') ?? 'i;unicode-casemap';
  if (!isSupportedCollation(collation)) throw new DavError(403, `Collation ${collation} is not supported.`, carddav('supported-collation'));
  const matchType = (attr(element, 'match-type') ?? 'contains').toLowerCase();
  if (!MATCH_TYPES.has(matchType)) throw invalidFilter(`match-type ${matchType} is not known.`);
  const negate = (attr(element, 'negate-condition') ?? 'no').toLowerCase();
  if (negate !== 'yes' && negate !== 'no') throw invalidFilter('negate-condition must be yes or no.');
  return { text: textContent(element), collation, negate: negate === 'yes', matchType: matchType as TextMatch['matchType'] };
}

function requireName(element: XmlElement): string {
  const name = attr(element, 'name');
  if (name === undefined || name.trim() === '') throw invalidFilter(`${element.name} needs a name attribute.`);
  return name.trim();
}

function parseParamFilter(element: XmlElement): CardParamFilter {
  const textMatch = findChild(element, carddav('text-match'));
  return {
    name: requireName(element),
    isNotDefined: findChild(element, carddav('is-not-defined')) !== undefined,
    ...(textMatch === undefined ? {} : { textMatch: parseTextMatch(textMatch) }),
  };
}

function parsePropFilter(element: XmlElement): CardPropFilter {
  return {
    name: requireName(element),
    test: parseTest(element),
    isNotDefined: findChild(element, carddav('is-not-defined')) !== undefined,
    textMatches: childElements(element).filter((e) => e.name === carddav('text-match')).map(parseTextMatch),
    paramFilters: childElements(element).filter((e) => e.name === carddav('param-filter')).map(parseParamFilter),
  };
}

export function parseCardFilter(filter: XmlElement | undefined): CardFilter {
  if (filter === undefined) throw invalidFilter('addressbook-query needs a filter.');
  return { test: parseTest(filter), propFilters: childElements(filter).filter((e) => e.name === carddav('prop-filter')).map(parsePropFilter) };
}

/** RFC 6352 §8.6.1: <limit><nresults>N</nresults></limit>. */
export function parseLimit(query: XmlElement): number | null {
  const limit = findChild(query, carddav('limit'));
  if (limit === undefined) return null;
  const nresults = findChild(limit, carddav('nresults'));
  const value = Number(textContent(nresults ?? limit).trim());
  if (nresults === undefined || !Number.isInteger(value) || value < 1) throw new DavError(400, 'limit needs a positive nresults.');
  return value;
}

export function parseAddressDataRequest(element: XmlElement): AddressDataRequest {
  const contentType = attr(element, 'content-type');
  const version = attr(element, 'version');
  if ((contentType !== undefined && contentType.toLowerCase() !== 'text/vcard') || (version !== undefined && version !== '3.0' && version !== '4.0')) {
    throw new DavError(403, 'Only text/vcard 3.0 and 4.0 are available.', carddav('supported-address-data-conversion'));
  }
  const props = childElements(element).filter((e) => e.name === carddav('prop'));
  return {
    allProps: findChild(element, carddav('allprop')) !== undefined || props.length === 0,
    props: props.map((p) => ({ name: requireName(p), novalue: (attr(p, 'novalue') ?? 'no').toLowerCase() === 'yes' })),
    ...(version === '3.0' || version === '4.0' ? { version } : {}),
  };
}
