// Escaping of character data and attribute values for the XML writer. Imports only node:buffer.
import { isUtf8 } from 'node:buffer';

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

// On the bytes read as Latin-1 (one character per byte): C0 controls XML cannot carry, and the UTF-8
// encodings of U+FFFE and U+FFFF (EF BF BE, EF BF BF), looked for by plain string search.
/* eslint-disable no-control-regex -- matching control characters is the point */
const CONTROL_BYTES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
/* eslint-enable no-control-regex */
const NONCHARACTER_FFFE = '\u00EF\u00BF\u00BE';
const NONCHARACTER_FFFF = '\u00EF\u00BF\u00BF';
const MARKUP = /[&<>]/;

/**
 * escapeText for UTF-8 text kept as bytes (stored calendar and vCard data), without decoding it: the
 * escaped UTF-8, the same bytes escapeText's answer encodes to. Works on the bytes as Latin-1 text, in
 * which the ASCII characters to escape are themselves and every other byte passes through. Undefined
 * when only the string path can do it: bytes that are not valid UTF-8, or that hold characters XML
 * cannot carry (C0 controls other than TAB, LF and CR; U+FFFE, U+FFFF), which escapeText replaces.
 */
export function escapeUtf8Text(bytes: Uint8Array): Uint8Array | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = view.toString('latin1');
  if (CONTROL_BYTES.test(latin1) || latin1.includes(NONCHARACTER_FFFE) || latin1.includes(NONCHARACTER_FFFF) || !isUtf8(view)) return undefined;
  const escaped = MARKUP.test(latin1) ? latin1.replace(TEXT_ALL, replaceSpecial) : latin1.replaceAll('\r', '&#13;');
  return escaped.length === latin1.length ? bytes : Buffer.from(escaped, 'latin1');
}
