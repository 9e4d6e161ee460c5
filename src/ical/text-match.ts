// Text matching under the RFC 4790 collations CalDAV (RFC 4791 §9.7.5) and CardDAV (RFC 6352 §10.5.4)
// use. Pure string logic: imports nothing but shared types, and nothing of ours outside src/ical.
import type { Collation, TextMatch } from './types.ts';

const COLLATIONS: ReadonlySet<string> = new Set<Collation>(['i;ascii-casemap', 'i;octet', 'i;unicode-casemap']);

/** Whether `name` is a collation we implement; the caller answers others with supported-collation. */
export function isSupportedCollation(name: string): name is Collation {
  return COLLATIONS.has(name);
}

/**
 * RFC 4790 §9.2 i;ascii-casemap: only the ASCII letters a-z are mapped (to upper case); every other
 * character, including non-ASCII letters, compares as itself.
 */
function asciiCasemap(value: string): string {
  return value.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

/**
 * RFC 5051 i;unicode-casemap, pragmatically: the RFC maps every character to its titlecase form and
 * then applies full canonical decomposition (NFKD). We decompose with NFKD, fold with the full
 * Unicode upper-case mapping (which for all but a handful of digraphs like U+01C6 equals the titlecase
 * mapping, and puts those digraphs in the same equivalence class anyway), and decompose again because
 * case mapping can produce precomposed characters. Upper case rather than lower case avoids the
 * context-dependent final-sigma rule of toLowerCase(), so folding is per character as the RFC wants.
 * Known difference: the RFC keeps "ß" (title case "Ss") apart from "ss"; we fold both to "SS".
 * Contacts store values folded by this (src/vcard/search-index.ts): a change here must bump the
 * version in FOLDED_KEY there, or old rows would be matched with the old folding.
 */
function unicodeCasemap(value: string): string {
  return value.normalize('NFKD').toUpperCase().normalize('NFKD');
}

/** `value` in the form its collation compares; a caller matching the same value often may keep it. */
export function fold(value: string, collation: Collation): string {
  switch (collation) {
    // RFC 4790 §9.3: byte-for-byte. JS strings hold the UTF-16 code units of the decoded text; for
    // well-formed text, equality and substring tests on them agree with the same tests on UTF-8 octets
    // (both encodings are self-synchronising), so no transcoding is needed.
    case 'i;octet':
      return value;
    case 'i;ascii-casemap':
      return asciiCasemap(value);
    case 'i;unicode-casemap':
      return unicodeCasemap(value);
  }
}

// A filter is tested against every candidate: its own text is folded once.
const foldedNeedles = new WeakMap<TextMatch, string>();

/** textMatches for a value already folded (with `fold`) under `match.collation`. */
export function foldedTextMatches(haystack: string, match: TextMatch): boolean {
  let needle = foldedNeedles.get(match);
  if (needle === undefined) {
    needle = fold(match.text, match.collation);
    foldedNeedles.set(match, needle);
  }
  let found: boolean;
  switch (match.matchType) {
    case 'equals':
      found = haystack === needle;
      break;
    case 'contains':
      found = haystack.includes(needle);
      break;
    case 'starts-with':
      found = haystack.startsWith(needle);
      break;
    case 'ends-with':
      found = haystack.endsWith(needle);
      break;
  }
  return match.negate ? !found : found;
}

/**
 * RFC 4791 §9.7.5 / RFC 6352 §10.5.4: whether `value` matches `match.text` under its collation and
 * match type; `negate` ("negate-condition") inverts the result.
 */
export function textMatches(value: string, match: TextMatch): boolean {
  return foldedTextMatches(fold(value, match.collation), match);
}
