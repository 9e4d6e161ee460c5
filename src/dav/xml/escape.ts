// Escaping of character data and attribute values for the XML writer. Imports nothing.

const REPLACEMENTS: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  // A parser turns a literal CR (or CRLF) into LF, and in attributes TAB/LF/CR into spaces; character
  // references survive both normalizations, so these are the only way to round-trip such values.
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};

// Characters XML 1.0 cannot carry at all, even as references. Writing them would make the whole
// response unparseable for the client, so they become U+FFFD (as do lone surrogates).
/* eslint-disable no-control-regex -- matching control characters is the point */
const TEXT_TEST = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const TEXT_ALL = new RegExp(TEXT_TEST.source, 'g');
const ATTRIBUTE_TEST = /[&<>"\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const ATTRIBUTE_ALL = new RegExp(ATTRIBUTE_TEST.source, 'g');
// Everything TEXT_TEST finds except CR. Stored calendar and vCard data are full of CRLF and seldom
// hold anything else to escape, so text without these characters needs only its CRs replaced.
const TEXT_BESIDES_CR = /[&<>\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
/* eslint-enable no-control-regex */

function replaceSpecial(char: string): string {
  return REPLACEMENTS[char] ?? '\uFFFD';
}

function escapeWith(value: string, test: RegExp, all: RegExp): string {
  const wellFormed = value.isWellFormed() ? value : value.toWellFormed();
  return test.test(wellFormed) ? wellFormed.replace(all, replaceSpecial) : wellFormed;
}

/**
 * Character data: &, <, > and CR are escaped. A double quote stays literal, so entity tags read
 * `"abc"` on the wire, as clients that scan responses loosely expect.
 */
export function escapeText(value: string): string {
  const wellFormed = value.isWellFormed() ? value : value.toWellFormed();
  if (TEXT_BESIDES_CR.test(wellFormed)) return wellFormed.replace(TEXT_ALL, replaceSpecial);
  return wellFormed.includes('\r') ? wellFormed.replaceAll('\r', '&#13;') : wellFormed;
}

/** A double-quoted attribute value: as text, plus TAB and LF. */
export function escapeAttribute(value: string): string {
  return escapeWith(value, ATTRIBUTE_TEST, ATTRIBUTE_ALL);
}
