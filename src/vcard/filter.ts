// RFC 6352 §10.5 addressbook-query filter evaluation against one parsed vCard, and the sound
// prefilter on the write-time CardIndex. Imports ical.js types, src/vcard, and text matching and
// its types from src/ical (to move to a shared folder); no DAV, XML or store code.
//
// Choices where RFC 6352 leaves room:
// - A prop-filter is satisfied by one property instance that passes its whole test (anyof/allof over
//   its text-matches and param-filters): "an EMAIL that is TYPE=home and contains example.com", not
//   "some EMAIL is home and some EMAIL contains example.com".
// - The text compared is `propertyText`: unescaped, structured values (N, ADR, ORG) joined with `;`
//   and their lists with `,` ("Doe;John;;Mr.;"), NICKNAME/CATEGORIES lists with `,`, TEL and URIs as
//   written (a 4.0 `tel:` URI keeps its scheme).
// - Names compare case-insensitively; a prop-filter name without group matches grouped properties
//   (item1.EMAIL is an EMAIL); one with a group ("item1.EMAIL") matches only that group.
// - A param-filter text-match on a multi-valued parameter (TYPE=work,voice) matches when one of the
//   values does; negate-condition then means "none of the values does". VALUE cannot be filtered on
//   (ical.js turns it into the value type) and counts as not defined.
import type ICAL from 'ical.js';
import { foldedTextMatches, textMatches } from '../ical/text-match.ts';
import type { Collation, TextMatch } from '../ical/types.ts';
import { jProps, paramValues, propGroup, propName, propertyText } from './jcard.ts';
import type { JProp } from './jcard.ts';
import type { CardIndex } from './validate.ts';

/** RFC 6352 §10.5.2. */
export interface CardParamFilter {
  readonly name: string;
  readonly isNotDefined: boolean;
  readonly textMatch?: TextMatch;
}

/** RFC 6352 §10.5.1; `test` defaults to anyof in the request. */
export interface CardPropFilter {
  readonly name: string;
  readonly test: 'anyof' | 'allof';
  readonly isNotDefined: boolean;
  readonly textMatches: readonly TextMatch[];
  readonly paramFilters: readonly CardParamFilter[];
}

/** RFC 6352 §10.5: the filter element; `test` defaults to anyof. */
export interface CardFilter {
  readonly test: 'anyof' | 'allof';
  readonly propFilters: readonly CardPropFilter[];
}

function splitName(name: string): { readonly group: string | undefined; readonly name: string } {
  const dot = name.indexOf('.');
  return dot === -1
    ? { group: undefined, name: name.toLowerCase() }
    : { group: name.slice(0, dot).toLowerCase(), name: name.slice(dot + 1).toLowerCase() };
}

function instances(props: readonly JProp[], filterName: string): JProp[] {
  const { group, name } = splitName(filterName);
  return props.filter((p) => propName(p) === name && (group === undefined || propGroup(p)?.toLowerCase() === group));
}

/** RFC 6352 §10.5.2 on one property instance. */
function paramFilterMatches(prop: JProp, filter: CardParamFilter): boolean {
  const name = filter.name.toLowerCase();
  const present = name !== 'group' && name !== 'value' && prop[1][name] !== undefined;
  if (filter.isNotDefined) return !present;
  if (!present) return false;
  const match = filter.textMatch;
  if (match === undefined) return true;
  const positive = { ...match, negate: false };
  const found = paramValues(prop[1], name).some((value) => textMatches(value, positive));
  return match.negate ? !found : found;
}

/** Whether one property instance passes the prop-filter's test (§10.5.1). */
function instanceMatches(prop: JProp, filter: CardPropFilter): boolean {
  const text = propertyText(prop);
  const tests: (() => boolean)[] = [
    ...filter.textMatches.map((match) => () => textMatches(text, match)),
    ...filter.paramFilters.map((pf) => () => paramFilterMatches(prop, pf)),
  ];
  if (tests.length === 0) return true;
  return filter.test === 'allof' ? tests.every((t) => t()) : tests.some((t) => t());
}

function propFilterMatches(props: readonly JProp[], filter: CardPropFilter): boolean {
  const found = instances(props, filter.name);
  if (filter.isNotDefined) return found.length === 0;
  return found.some((prop) => instanceMatches(prop, filter));
}

/**
 * RFC 6352 §10.5: whether the vCard matches. An empty filter (no prop-filters) matches every card;
 * otherwise anyof needs one prop-filter to match, allof all of them.
 */
export function matchesCardFilter(card: ICAL.Component, filter: CardFilter): boolean {
  if (filter.propFilters.length === 0) return true;
  const props = jProps(card);
  return filter.test === 'allof'
    ? filter.propFilters.every((pf) => propFilterMatches(props, pf))
    : filter.propFilters.some((pf) => propFilterMatches(props, pf));
}

/**
 * A condition on one CardIndex field. With `isNotDefined` it holds when the field is empty; else it
 * needs one value of the field that passes the text-matches (one of them for anyof, all for allof),
 * or, with no text-matches, a non-empty field.
 */
export interface IndexCondition {
  readonly field: keyof CardIndex;
  readonly isNotDefined: boolean;
  readonly test: 'anyof' | 'allof';
  readonly textMatches: readonly TextMatch[];
}

/**
 * Conditions on the CardIndex that every card matching the filter satisfies, combined with `test`.
 * `exact` is true when they are also sufficient (the filter only uses indexed properties, without
 * param-filters or groups), so cards need not be parsed to be filtered.
 */
export interface IndexPrefilter {
  readonly test: 'anyof' | 'allof';
  readonly conditions: readonly IndexCondition[];
  readonly exact: boolean;
}

const INDEXED: Readonly<Record<string, keyof CardIndex>> = {
  fn: 'fn', n: 'n', email: 'email', tel: 'tel', nickname: 'nickname', org: 'org', uid: 'uid',
};

/** A necessary condition for one prop-filter, and whether it is also sufficient; null if none. */
function conditionFor(pf: CardPropFilter): { condition: IndexCondition; exact: boolean } | null {
  const { group, name } = splitName(pf.name);
  const field = INDEXED[name];
  if (field === undefined) return null;
  const exact = group === undefined && pf.paramFilters.length === 0;
  if (pf.isNotDefined) {
    // Without a group, "no EMAIL" is "no EMAIL value indexed"; with one, the index cannot tell.
    return group === undefined ? { condition: { field, isNotDefined: true, test: 'anyof', textMatches: [] }, exact: true } : null;
  }
  // anyof with param-filters: one passing param-filter suffices, so only "the property exists" is necessary.
  const matches = pf.test === 'anyof' && pf.paramFilters.length > 0 ? [] : pf.textMatches;
  return { condition: { field, isNotDefined: false, test: pf.test, textMatches: matches }, exact };
}

/**
 * A sound prefilter for the filter on the CardIndex of each card, or null when the filter constrains
 * no indexed property in a way the index can check (then every card is a candidate). Under anyof,
 * every prop-filter must be indexable; under allof, the indexable ones are used.
 */
export function indexPrefilter(filter: CardFilter): IndexPrefilter | null {
  if (filter.propFilters.length === 0) return null;
  const parts = filter.propFilters.map(conditionFor);
  const known = parts.filter((p) => p !== null);
  if (filter.test === 'anyof' && known.length < parts.length) return null;
  if (known.length === 0) return null;
  return {
    test: filter.test,
    conditions: known.map((p) => p.condition),
    exact: known.length === parts.length && known.every((p) => p.exact),
  };
}

/** A field's values folded under a collation (see `fold` in text-match.ts), as a cache may keep them. */
export type FoldedField = (field: keyof CardIndex, collation: Collation) => readonly string[];

function conditionHolds(index: CardIndex, condition: IndexCondition, folded: FoldedField | undefined): boolean {
  const values = index[condition.field];
  if (condition.isNotDefined) return values.length === 0;
  if (condition.textMatches.length === 0) return values.length > 0;
  const test = (m: TextMatch, i: number): boolean =>
    folded === undefined ? textMatches(values[i] as string, m) : foldedTextMatches(folded(condition.field, m.collation)[i] as string, m);
  return values.some((_value, i) => (condition.test === 'allof'
    ? condition.textMatches.every((m) => test(m, i))
    : condition.textMatches.some((m) => test(m, i))));
}

/**
 * Whether a card's index passes the prefilter; false means the card cannot match the filter.
 * `folded`, when given, supplies the index's values already folded, saving the fold per query.
 */
export function indexSatisfies(index: CardIndex, prefilter: IndexPrefilter, folded?: FoldedField): boolean {
  return prefilter.test === 'allof'
    ? prefilter.conditions.every((c) => conditionHolds(index, c, folded))
    : prefilter.conditions.some((c) => conditionHolds(index, c, folded));
}
