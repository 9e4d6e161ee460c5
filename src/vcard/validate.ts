// Accepting a vCard into an address book (RFC 6352 §5.1, §6.3.2.1): decoding, parsing, the CardDAV
// object rules, and the values indexed for addressbook-query. Imports only ical.js and src/vcard.
//
// Decisions (for the README):
// - vCard 2.1 (and any VERSION but 3.0/4.0) is refused with CARDDAV:supported-address-data: its
//   QUOTED-PRINTABLE, CHARSET and bare parameters would need a third parser, and every current
//   client can send 3.0 or 4.0.
// - FN is required by RFC 6350 §6.2.1 and RFC 2426 §3.1.1, but a card without FN is accepted when
//   its N has some text (older exporters omit FN); a card with neither is refused. Nothing is added.
// - UID is required (RFC 6352 §5.1: "MUST contain a UID property"); there is no repair.
// - Accepted leniently, stored as sent: LF or mixed line breaks, blank lines, a BOM, VERSION not on
//   the second line, lower-case names. Not repaired: 2.1-style bare parameters in a 3.0 card.
import ICAL from 'ical.js';
import { lineName, unfoldLines, valueSeparator } from './content-lines.ts';
import type { ContentLine } from './content-lines.ts';
import { jProps, propertyText, propName } from './jcard.ts';
import type { JProp } from './jcard.ts';

/** The CardDAV precondition a refused vCard violates (RFC 6352 §6.3.2.1). */
export type AddressPrecondition = 'valid-address-data' | 'supported-address-data';

export class InvalidAddressObject extends Error {
  override readonly name = 'InvalidAddressObject';
  readonly precondition: AddressPrecondition;
  constructor(precondition: AddressPrecondition, message: string, options?: ErrorOptions) {
    super(message, options);
    this.precondition = precondition;
  }
}

/**
 * Searchable values, extracted at write time (RFC 6352 §8.6): one entry per property instance
 * (grouped ones included, empty values kept), each the text `propertyText` gives, which is also what
 * the addressbook-query filter compares against.
 */
export interface CardIndex {
  readonly fn: string[];
  readonly n: string[];
  readonly email: string[];
  readonly tel: string[];
  readonly nickname: string[];
  readonly org: string[];
  readonly uid: string[];
}

export interface CardInfo {
  readonly uid: string;
  readonly version: '3.0' | '4.0';
  /** individual, group, org or location (RFC 6350 §6.1.4), from KIND or X-ADDRESSBOOKSERVER-KIND. */
  readonly kind: string;
  readonly index: CardIndex;
}

const invalid = (message: string): InvalidAddressObject => new InvalidAddressObject('valid-address-data', message);

/** Shortens a quoted line for an error message (PHOTO lines run to many kilobytes). */
function excerpt(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * The request body as text. RFC 6350 §3.1 makes UTF-8 the only charset of vCard 4.0, and CardDAV
 * clients send 3.0 in UTF-8 too, so invalid UTF-8 is refused rather than guessed at. A BOM is dropped.
 */
export function decodeCardBytes(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (cause) {
    throw new InvalidAddressObject('valid-address-data', 'vCard data is not valid UTF-8 (RFC 6350 §3.1); convert it to UTF-8 first', { cause });
  }
}

/** C0 controls other than HTAB/LF/CR, and U+FFFE/U+FFFF: invalid in vCard text and unrepresentable in XML. */
function checkCharacters(text: string): void {
  if (!text.isWellFormed()) throw invalid('vCard text contains an unpaired surrogate');
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x0a) line++;
    else if ((code < 0x20 && code !== 0x09 && code !== 0x0d) || code === 0xfffe || code === 0xffff) {
      throw invalid(`vCard contains the control character U+${code.toString(16).toUpperCase().padStart(4, '0')} on line ${line}`);
    }
  }
}

const NAME = /^(?:[A-Za-z0-9-]+\.)?[A-Za-z0-9-]+$/;

interface Structure {
  /** The property lines of the one vCard, VERSION first, for ical.js. */
  readonly body: string;
  readonly version: '3.0' | '4.0';
}

/** The name and parameters of a content line, split at the SEMICOLONs outside quoted values. */
function splitParams(head: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < head.length; i++) {
    if (head[i] === '"') quoted = !quoted;
    else if (head[i] === ';' && !quoted) {
      parts.push(head.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(head.slice(start));
  return parts;
}

function isLine(line: ContentLine, name: 'BEGIN' | 'END', value: string): boolean {
  const sep = line.text.indexOf(':');
  return sep !== -1 && line.text.slice(0, sep).trim().toUpperCase() === name && line.text.slice(sep + 1).trim().toUpperCase() === value;
}

/**
 * The checks made on the content lines before ical.js sees them, so that what it cannot parse well
 * (several cards, nesting, vCard 2.1) gets a precise message: exactly one BEGIN:VCARD…END:VCARD
 * (RFC 6352 §5.1), property names that are names (RFC 6350 §3.3), one VERSION of 3.0 or 4.0.
 */
function checkStructure(text: string): Structure {
  const lines = unfoldLines(text);
  const first = lines[0];
  if (first === undefined) throw invalid('the body is empty; expected a vCard');
  if (!isLine(first, 'BEGIN', 'VCARD')) {
    if (isLine(first, 'BEGIN', 'VCALENDAR')) throw invalid('the body is iCalendar data, not a vCard');
    throw invalid(`vCard data must start with BEGIN:VCARD (line ${first.lineNumber} is "${excerpt(first.text)}")`);
  }
  let cards = 0;
  let open = false;
  const body: ContentLine[] = [];
  for (const line of lines) {
    if (!open) {
      if (!isLine(line, 'BEGIN', 'VCARD')) throw invalid(`unexpected content after END:VCARD on line ${line.lineNumber}: "${excerpt(line.text)}"`);
      cards++;
      open = true;
    } else if (isLine(line, 'END', 'VCARD')) {
      open = false;
    } else if (cards === 1) {
      body.push(line);
    }
  }
  if (open) throw invalid('the vCard is not closed: END:VCARD is missing');
  if (cards > 1) throw invalid(`one vCard per resource (RFC 6352 §5.1): the body holds ${cards} vCards`);
  const versions = body.filter((line) => lineName(line.text).group === undefined && lineName(line.text).name === 'VERSION');
  const versionLine = versions[0];
  if (versionLine === undefined) throw invalid('vCard has no VERSION property (RFC 6350 §6.7.9, RFC 2426 §3.6.9)');
  if (versions.length > 1) throw invalid('vCard has more than one VERSION property');
  const sep = valueSeparator(versionLine.text);
  const version = sep === -1 ? '' : versionLine.text.slice(sep + 1).trim();
  if (version === '2.1') {
    throw new InvalidAddressObject('supported-address-data', 'vCard 2.1 is not supported; export as vCard 3.0 or 4.0');
  }
  if (version !== '3.0' && version !== '4.0') {
    throw new InvalidAddressObject('supported-address-data', `vCard version "${excerpt(version, 20)}" is not supported; send vCard 3.0 or 4.0`);
  }
  const props: string[] = [];
  for (const line of body) {
    if (line === versionLine) continue;
    const end = valueSeparator(line.text);
    if (end === -1) throw invalid(`line ${line.lineNumber} has no ":" before a value: "${excerpt(line.text)}"`);
    const [head = '', ...params] = splitParams(line.text.slice(0, end));
    if (!NAME.test(head)) throw invalid(`line ${line.lineNumber} is not a vCard property: "${excerpt(line.text)}"`);
    const bare = params.find((param) => !param.includes('='));
    if (bare !== undefined) {
      throw invalid(`line ${line.lineNumber}: parameter "${excerpt(bare, 20)}" of ${head} has no value (a vCard 2.1 form; 3.0 and 4.0 write TYPE=… or ENCODING=b)`);
    }
    const { name } = lineName(line.text);
    if (name === 'BEGIN' || name === 'END') throw invalid(`line ${line.lineNumber}: "${excerpt(line.text)}": a vCard cannot contain other components`);
    props.push(line.text);
  }
  // RFC 6350 §6.7.9 puts VERSION right after BEGIN; ical.js picks its 3.0 or 4.0 rules from that line.
  return { body: ['BEGIN:VCARD', `VERSION:${version}`, ...props, 'END:VCARD'].join('\n'), version };
}

/**
 * Parses vCard text (already checked by `validateCard` or not) into an ical.js component. Throws
 * InvalidAddressObject, never anything else, for any input.
 */
export function parseCard(text: string): ICAL.Component {
  return parseChecked(text).card;
}

function parseChecked(text: string): { card: ICAL.Component; version: '3.0' | '4.0' } {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  checkCharacters(body);
  const structure = checkStructure(body);
  let jcard: unknown;
  try {
    jcard = ICAL.parse(structure.body);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidAddressObject('valid-address-data', `vCard could not be parsed: ${excerpt(reason, 160)}`, { cause });
  }
  if (!Array.isArray(jcard) || jcard[0] !== 'vcard') throw invalid('vCard could not be parsed');
  return { card: new ICAL.Component(jcard), version: structure.version };
}

function values(props: readonly JProp[], name: string): string[] {
  return props.filter((p) => propName(p) === name).map(propertyText);
}

/**
 * Checks a vCard for storing in an address book and extracts what the store keeps about it. Throws
 * InvalidAddressObject (and nothing else) when the text is not one acceptable vCard.
 */
export function validateCard(text: string): { card: ICAL.Component; info: CardInfo } {
  const { card, version } = parseChecked(text);
  const props = jProps(card);
  const uids = values(props, 'uid');
  const uid = uids[0];
  if (uid === undefined) throw invalid('vCard has no UID (RFC 6352 §5.1 requires one)');
  if (uids.length > 1) throw invalid('vCard has more than one UID');
  if (uid.trim() === '') throw invalid('vCard has an empty UID');
  const fn = values(props, 'fn');
  const n = values(props, 'n');
  if (fn.length === 0 && !n.some((name) => name.replaceAll(';', '').trim() !== '')) {
    throw invalid('vCard has no FN (formatted name) property (RFC 6350 §6.2.1, RFC 2426 §3.1.1)');
  }
  const kind = (values(props, 'kind')[0] ?? values(props, 'x-addressbookserver-kind')[0] ?? 'individual').trim().toLowerCase();
  const index: CardIndex = {
    fn, n, email: values(props, 'email'), tel: values(props, 'tel'),
    nickname: values(props, 'nickname'), org: values(props, 'org'), uid: uids,
  };
  return { card, info: { uid, version, kind: kind === '' ? 'individual' : kind, index } };
}
