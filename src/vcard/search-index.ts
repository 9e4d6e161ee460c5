// The search index of a contact as stored at write time (JSON of CardIndex plus the same values
// folded under i;unicode-casemap), and the substring narrowing a store can apply to that text before
// the exact index check (filter.ts) judges each card. Imports src/vcard and text matching from
// src/ical only; no DAV or store code (the narrowing is a plain object a store takes as it is).
import { fold } from '../ical/text-match.ts';
import type { TextMatch } from '../ical/types.ts';
import type { IndexCondition, IndexPrefilter } from './filter.ts';
import type { CardIndex } from './validate.ts';

/**
 * The key under which the folded values are stored. It names the folding (bump `v1` whenever `fold`
 * in src/ical/text-match.ts changes what it returns) and the Unicode version of the process that
 * folded them: a process that would fold differently uses another key, finds no folded values of its
 * own in older rows and treats them as unknown (always candidates, folded again when read).
 */
export const FOLDED_KEY = `folded:unicode-casemap:v1:${process.versions.unicode ?? 'unknown'}`;

/** How the key appears in the stored JSON text; a value cannot contain it (its quotes are escaped). */
const MARKER = `${JSON.stringify(FOLDED_KEY)}:`;

export type FoldedIndex = { readonly [K in keyof CardIndex]: readonly string[] };

/** The text stored as a card's search index. */
export function serializeSearchIndex(index: CardIndex): string {
  const folded = Object.fromEntries(Object.entries(index).map(([field, values]: [string, readonly string[]]) => [field, values.map((v) => fold(v, 'i;unicode-casemap'))]));
  // Key first: a store finds the marker at the start of the text instead of scanning past the values.
  return JSON.stringify({ [FOLDED_KEY]: folded, ...index });
}

/** The folded values stored with a parsed index by this process's Unicode version, if any. */
export function storedFolded(parsed: CardIndex): FoldedIndex | undefined {
  return (parsed as unknown as Record<string, FoldedIndex | undefined>)[FOLDED_KEY];
}

/** Plain substrings of the stored text, at least one of which is in every row a query keeps. */
export interface SearchNarrowing {
  readonly marker: string;
  readonly clauses: readonly (readonly string[])[];
}

/**
 * The substring a card's stored text must contain when one of its values (of any field) passes the
 * match, or null when no such substring is known. Values are stored as JSON strings, and JSON escapes
 * each character on its own, so a value containing `needle` is stored containing needle's escaped
 * form; equals/starts-with/ends-with add the string's quotes. i;unicode-casemap compares the folded
 * values, i;octet the values as written (both stored); i;ascii-casemap and negations are not narrowed.
 */
function termFor(match: TextMatch): string | null {
  if (match.negate || match.collation === 'i;ascii-casemap') return null;
  const needle = match.collation === 'i;octet' ? match.text : fold(match.text, match.collation);
  // A lone surrogate would be escaped in the needle but could pair up inside a stored value.
  if (needle === '' || !needle.isWellFormed()) return null;
  const escaped = JSON.stringify(needle).slice(1, -1);
  switch (match.matchType) {
    case 'equals':
      return `"${escaped}"`;
    case 'starts-with':
      return `"${escaped}`;
    case 'ends-with':
      return `${escaped}"`;
    case 'contains':
      return escaped;
  }
}

/** Clauses (all must hold) implied by one index condition, or null when it implies none. */
function clausesFor(condition: IndexCondition): string[][] | null {
  if (condition.isNotDefined || condition.textMatches.length === 0) return null;
  const terms = condition.textMatches.map(termFor);
  if (condition.test === 'allof') {
    const known = terms.filter((t) => t !== null).map((t) => [t]);
    return known.length === 0 ? null : known;
  }
  return terms.every((t) => t !== null) ? [terms] : null;
}

/**
 * A narrowing implied by the prefilter (every card passing it has a stored text the narrowing keeps),
 * or null when nothing useful is implied. Weaker than the prefilter on purpose: it ignores which field
 * a substring is found in.
 */
export function searchNarrowing(prefilter: IndexPrefilter): SearchNarrowing | null {
  const parts = prefilter.conditions.map(clausesFor);
  if (prefilter.test === 'allof') {
    const clauses = parts.filter((p) => p !== null).flat();
    return clauses.length === 0 ? null : { marker: MARKER, clauses };
  }
  // anyof: one condition holds, so the union of one implied clause from each is implied.
  if (parts.some((p) => p === null)) return null;
  return { marker: MARKER, clauses: [parts.flatMap((p) => (p as string[][])[0] ?? [])] };
}
