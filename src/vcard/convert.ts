// Conversion of a stored vCard between 3.0 (RFC 2426) and 4.0 (RFC 6350), for address-data `version`
// (RFC 6352 §10.4) and content negotiation (§5.1.1), keeping what the other version can hold.
// Imports ical.js types and src/vcard only.
//
// Mapping (3.0 ↔ 4.0; RFC 6350 Appendix A lists the differences):
// - TYPE values upper case ↔ lower case; TYPE=PREF ↔ PREF=1 (4.0 PREF=2..100 has no 3.0 form and is
//   dropped); CHARSET is dropped (the text is UTF-8 once decoded); other parameters are kept.
// - TEL text ↔ text (4.0 default, no VALUE); a 4.0 `tel:` URI becomes text (`;ext=` → " ext. ").
// - PHOTO/LOGO/SOUND/KEY: ENCODING=b;TYPE=JPEG:<base64> ↔ data:image/jpeg;base64,<base64>; URLs stay
//   URLs (3.0 TYPE=JPEG ↔ 4.0 MEDIATYPE=image/jpeg). A 4.0 TYPE (home/work) on them is kept.
// - BDAY/ANNIVERSARY/DEATHDATE: ISO 8601 extended ↔ basic; without year: X-APPLE-OMIT-YEAR=1604
//   and 1604-MM-DD (or --MM-DD from 3.0) ↔ --MMDD. ANNIVERSARY ↔ X-ANNIVERSARY.
// - KIND ↔ X-ADDRESSBOOKSERVER-KIND, MEMBER ↔ X-ADDRESSBOOKSERVER-MEMBER (Apple's group form),
//   GENDER ↔ X-GENDER (same value text), GEO lat;lon ↔ geo:lat,lon, TZ offset -05:00 ↔ -0500.
// - 4.0 ADR;LABEL= ↔ a 3.0 LABEL property after the ADR (same group and TYPE).
// - Everything else (N/ADR/ORG structure, groups such as item1.EMAIL + item1.X-ABLabel, X- and
//   unknown properties) is kept; 3.0-only (MAILER, CLASS, …) and 4.0-only (LANG, RELATED, …)
//   properties keep their names. A missing FN (4.0) is built from N or ORG, a missing N (3.0) is
//   written empty, as each version requires one.
import type ICAL from 'ical.js';
import { joinLines } from './content-lines.ts';
import {
  MEDIA_PROPS, OMITTED_YEAR, dateTo30, dateTo40, formatFromMediaType, fromDataUri, geoFromUri, geoToUri,
  mediaTypeFromFormat, sniffMediaType, telUriToText, toDataUri, utcOffsetFor,
} from './convert-values.ts';
import { jProps, paramNames, paramValues, plainText, propGroup, propName, propType, propValues, propertyText, unescapeText } from './jcard.ts';
import type { JParams, JProp, JValue } from './jcard.ts';
import { escapeStructured, escapeText, writeProp } from './write.ts';
import type { CardVersion, OutProp } from './write.ts';

type Params = [string, string[]][];

/** Comma-separated lists in both versions; NOTE is not one, though ical.js splits it in 3.0. */
const MULTI: ReadonlySet<string> = new Set(['nickname', 'categories']);
/** Compound values and their component count (0: as many as given). */
const STRUCTURED: Readonly<Record<string, number>> = { n: 5, adr: 7, org: 0, gender: 0, clientpidmap: 0 };
/** Default value types that differ from text (RFC 2426 §3, RFC 6350 §6; TEL is text in 4.0). */
const DEFAULTS: Readonly<Record<CardVersion, Readonly<Record<string, string>>>> = {
  '3.0': {
    photo: 'binary', logo: 'binary', sound: 'binary', key: 'binary', bday: 'date', rev: 'date-time', tel: 'phone-number',
    tz: 'utc-offset', geo: 'float', agent: 'vcard', url: 'uri', source: 'uri', impp: 'uri', fburl: 'uri', caluri: 'uri', caladruri: 'uri',
  },
  '4.0': {
    source: 'uri', photo: 'uri', logo: 'uri', sound: 'uri', key: 'uri', url: 'uri', impp: 'uri', geo: 'uri', member: 'uri',
    related: 'uri', fburl: 'uri', caladruri: 'uri', caluri: 'uri', 'org-directory': 'uri', bday: 'date-and-or-time',
    anniversary: 'date-and-or-time', deathdate: 'date-and-or-time', rev: 'timestamp', lang: 'language-tag',
  },
};
const DATE_TYPES: ReadonlySet<string> = new Set(['date', 'time', 'date-time', 'date-and-or-time', 'timestamp']);
/** Properties that have a counterpart under another name in the other version. */
const PAIRED: ReadonlySet<string> = new Set(['kind', 'member', 'gender', 'anniversary', 'x-addressbookserver-kind', 'x-addressbookserver-member', 'x-gender', 'x-anniversary']);
const NOT_FORMATS: ReadonlySet<string> = new Set(['home', 'work', 'pref']);

const isPref = (v: string): boolean => v.toLowerCase() === 'pref';
const scalar = (v: JValue | undefined): string => (v === undefined ? '' : Array.isArray(v) ? (v as readonly JValue[]).map(scalar).join(';') : String(v));

/** The VALUE parameter a value of `type` needs in `to` (none when it is the property's default). */
function valueParam(name: string, type: string, to: CardVersion): string[] {
  if (type === 'unknown' || name === 'uid' || name === 'version') return [];
  const def = DEFAULTS[to][name] ?? 'text';
  let t = type;
  if (to === '3.0' && (t === 'date-and-or-time' || t === 'timestamp')) t = 'date-time';
  if (to === '3.0' && t === 'language-tag') t = 'text';
  if (to === '4.0' && (t === 'phone-number' || t === 'vcard')) t = 'text';
  if (t === def || (def === 'date-and-or-time' && DATE_TYPES.has(t)) || (def === 'phone-number' && t === 'text')) return [];
  return [t];
}

/** Parameters for `to`: TYPE case and PREF as described above; CHARSET and `drop` removed. */
function convertParams(params: JParams, to: CardVersion, drop: readonly string[] = []): Params {
  const out: Params = [];
  let pref = false;
  for (const name of paramNames(params)) {
    if (name === 'charset' || drop.includes(name)) continue;
    let values = paramValues(params, name);
    if (name === 'type') {
      pref ||= values.some(isPref);
      values = values.filter((v) => !isPref(v)).map((v) => (to === '4.0' ? v.toLowerCase() : v.toUpperCase()));
    } else if (name === 'pref' && to === '3.0') {
      pref ||= values[0] === '1';
      continue;
    }
    if (values.length > 0) out.push([name, values]);
  }
  if (pref && to === '4.0' && !out.some(([n]) => n === 'pref')) out.push(['pref', ['1']]);
  if (pref && to === '3.0') {
    const type = out.find(([n]) => n === 'type');
    if (type === undefined) out.push(['type', ['PREF']]);
    else type[1].push('PREF');
  }
  return out;
}

function components(value: JValue | undefined, type: string): (string | string[])[] {
  if (value === undefined) return [];
  const parts = Array.isArray(value) ? (value as readonly JValue[]) : [value];
  return parts.map((part) => (Array.isArray(part) ? (part as readonly JValue[]).map((v) => plainText(v, type)) : plainText(part, type)));
}

/** The value of `prop` in the wire form of `to`, for properties with no special mapping. */
function genericValue(prop: JProp, to: CardVersion): string {
  const name = propName(prop);
  const type = propType(prop);
  const values = propValues(prop);
  switch (type) {
    case 'text': case 'phone-number': case 'vcard': {
      const size = STRUCTURED[name];
      if (size !== undefined) return escapeStructured(components(values[0], type), to, size);
      if (MULTI.has(name)) return values.map((v) => escapeText(plainText(v, type), to, false)).join(',');
      return escapeText(values.map((v) => plainText(v, type)).join(','), to, false);
    }
    case 'uri':
      // Some 3.0 writers (old Apple) escape URIs as text (`http\://`); a backslash is never part of a URI.
      return values.map((v) => scalar(v).replace(/\\([\\,;:])/g, '$1')).join(',');
    default:
      return values.map(scalar).join(',');
  }
}

function generic(prop: JProp, to: CardVersion, name = propName(prop), extra: Params = []): OutProp {
  const params = [...convertParams(prop[1], to), ...extra];
  const value = valueParam(name, propType(prop), to);
  if (value.length > 0) params.push(['value', value]);
  return { group: propGroup(prop), name, params, value: genericValue(prop, to) };
}

/** A property carried as plain text under another name (KIND ↔ X-ADDRESSBOOKSERVER-KIND, …). */
function renamed(prop: JProp, to: CardVersion, name: string, value: string): OutProp {
  return { group: propGroup(prop), name, params: convertParams(prop[1], to), value };
}

/** The value text of a property that may be unknown (raw) on one side. */
const textOf = (prop: JProp): string => propertyText(prop);

const OFFSET = /^[+-]\d{2}:?\d{2}$/;

/** TZ: a UTC offset (3.0 default, 4.0 VALUE=utc-offset) or text; a 4.0 text that is an offset becomes one. */
function tzProp(prop: JProp, to: CardVersion): OutProp {
  const value = propType(prop) === 'unknown' ? unescapeText(scalar(propValues(prop)[0])) : textOf(prop);
  const params = convertParams(prop[1], to);
  const isOffset = OFFSET.test(value) && (propType(prop) === 'utc-offset' || to === '3.0');
  if (!isOffset) return { group: propGroup(prop), name: 'tz', params: to === '3.0' ? [...params, ['value', ['text']]] : params, value: escapeText(value, to, false) };
  return { group: propGroup(prop), name: 'tz', params: to === '4.0' ? [...params, ['value', ['utc-offset']]] : params, value: utcOffsetFor(value, to) };
}

/**
 * BDAY, ANNIVERSARY, DEATHDATE, REV and any property typed as a date. VALUE is written where the
 * target's default differs, except on X-ANNIVERSARY and on properties whose type was not given.
 */
function dateProp(prop: JProp, to: CardVersion, name: string): OutProp {
  const type = propType(prop);
  const raw = type === 'unknown' ? unescapeText(scalar(propValues(prop)[0])) : scalar(propValues(prop)[0]);
  const params = convertParams(prop[1], to, ['x-apple-omit-year']);
  const typed = (valueType: string): OutProp['params'] =>
    (type === 'unknown' || name === 'x-anniversary' ? params : [...params, ...valueParam(name, valueType, to).map((v): [string, string[]] => ['value', [v]])]);
  const asText = (): OutProp => ({ group: propGroup(prop), name, params: typed('text'), value: escapeText(raw, to, false) });
  if (type === 'text') return asText();
  if (to === '4.0') {
    const omit = paramValues(prop[1], 'x-apple-omit-year')[0];
    const value = dateTo40(raw, omit);
    if (value === null) return asText();
    if (omit !== undefined && !raw.startsWith(omit)) params.push(['x-apple-omit-year', [omit]]);
    if (name === 'rev') return { group: propGroup(prop), name, params, value: value.includes('T') ? value : `${value}T000000Z` };
    return { group: propGroup(prop), name, params: typed('date-and-or-time'), value };
  }
  const converted = dateTo30(raw);
  if (converted === null) return { group: propGroup(prop), name, params, value: raw };
  if (converted.omitYear) params.push(['x-apple-omit-year', [OMITTED_YEAR]]);
  return { group: propGroup(prop), name, params: typed(converted.hasTime ? 'date-time' : 'date'), value: converted.value };
}

function mediaTo40(prop: JProp): OutProp {
  const name = propName(prop);
  const value = scalar(propValues(prop)[0]);
  const encoding = paramValues(prop[1], 'encoding')[0]?.toLowerCase();
  const types = paramValues(prop[1], 'type');
  const format = types.find((t) => !NOT_FORMATS.has(t.toLowerCase()));
  const params = convertParams({ ...prop[1], type: types.filter((t) => t !== format) }, '4.0', ['encoding']);
  const looksLikeUri = /^[a-z][a-z0-9+.-]*:/i.test(value);
  const type = propType(prop);
  if (type === 'binary' && (encoding !== undefined || !looksLikeUri)) {
    const mediaType = format === undefined ? sniffMediaType(value) : mediaTypeFromFormat(name, format);
    return { group: propGroup(prop), name, params, value: toDataUri(mediaType, value) };
  }
  if (type === 'binary' || type === 'uri') {
    if (format !== undefined && !/^data:/i.test(value)) params.push(['mediatype', [mediaTypeFromFormat(name, format)]]);
    return { group: propGroup(prop), name, params, value };
  }
  return generic(prop, '4.0');
}

function mediaTo30(prop: JProp): OutProp {
  const name = propName(prop);
  const value = scalar(propValues(prop)[0]);
  if (propType(prop) !== 'uri') return generic(prop, '3.0');
  const data = fromDataUri(value);
  const mediaType = data?.mediaType ?? paramValues(prop[1], 'mediatype')[0];
  const format = mediaType === undefined ? undefined : formatFromMediaType(mediaType);
  const types = [...(format === undefined ? [] : [format]), ...paramValues(prop[1], 'type')];
  const params = convertParams({ ...prop[1], type: types }, '3.0', ['mediatype']);
  if (data === null) return { group: propGroup(prop), name, params: [...params, ['value', ['uri']]], value };
  return { group: propGroup(prop), name, params: [['encoding', ['b']], ...params], value: data.base64 };
}

const typeSet = (prop: JProp): string =>
  paramValues(prop[1], 'type').map((t) => t.toLowerCase()).filter((t) => t !== 'pref').sort().join(',');

/**
 * 3.0 LABEL properties that belong to one ADR, as its 4.0 LABEL parameter (RFC 6350 §6.3.1): the ADR
 * of the same group, or else the only ungrouped ADR with the same TYPE set.
 */
function labelsForAdr(props: readonly JProp[]): { labels: Map<JProp, string>; attached: Set<JProp> } {
  const labels = new Map<JProp, string>();
  const attached = new Set<JProp>();
  const adrs = props.filter((p) => propName(p) === 'adr' && paramValues(p[1], 'label').length === 0);
  for (const label of props.filter((p) => propName(p) === 'label')) {
    const group = propGroup(label);
    const fits = adrs.filter((adr) => !labels.has(adr)
      && (group === undefined ? propGroup(adr) === undefined && typeSet(adr) === typeSet(label) : propGroup(adr) === group));
    const adr = fits[0];
    if (adr !== undefined && fits.length === 1) {
      labels.set(adr, textOf(label));
      attached.add(label);
    }
  }
  return { labels, attached };
}

function to40(props: readonly JProp[]): OutProp[] {
  const { labels, attached } = labelsForAdr(props);
  const out: OutProp[] = [];
  for (const prop of props) {
    const name = propName(prop);
    const type = propType(prop);
    if (name === 'x-addressbookserver-kind') out.push(renamed(prop, '4.0', 'kind', escapeText(textOf(prop).trim().toLowerCase(), '4.0', false)));
    else if (name === 'x-addressbookserver-member') out.push(renamed(prop, '4.0', 'member', scalar(propValues(prop)[0])));
    else if (name === 'x-gender' && /^[MFONU]?(;|$)/i.test(scalar(propValues(prop)[0]))) out.push(renamed(prop, '4.0', 'gender', scalar(propValues(prop)[0])));
    else if (name === 'x-anniversary') out.push(dateProp(prop, '4.0', 'anniversary'));
    else if (name === 'bday' || name === 'anniversary' || name === 'deathdate' || name === 'rev' || DATE_TYPES.has(type)) out.push(dateProp(prop, '4.0', name));
    else if (name === 'label' && attached.has(prop)) continue;
    else if (name === 'adr') {
      const label = labels.get(prop);
      out.push(generic(prop, '4.0', name, label === undefined ? [] : [['label', [label]]]));
    } else if (name === 'tel' && type !== 'uri') out.push({ ...generic(prop, '4.0'), value: escapeText(textOf(prop), '4.0', false) });
    else if (MEDIA_PROPS.has(name)) out.push(mediaTo40(prop));
    else if (name === 'geo' && type === 'float') {
      const [lat, lon] = components(propValues(prop)[0], 'text');
      out.push({ ...generic(prop, '4.0'), params: convertParams(prop[1], '4.0'), value: geoToUri(scalar(lat), scalar(lon)) });
    } else if (name === 'tz' && type !== 'uri') out.push(tzProp(prop, '4.0'));
    else out.push(generic(prop, '4.0'));
  }
  if (!out.some((p) => p.name === 'fn')) out.unshift({ group: undefined, name: 'fn', params: [], value: escapeText(nameFromN(props), '4.0', false) });
  return out;
}

/** FN for a 4.0 card that lacks one (RFC 6350 §6.2.1 requires it): "prefix given middle family suffix". */
function nameFromN(props: readonly JProp[]): string {
  const n = props.find((p) => propName(p) === 'n');
  if (n !== undefined) {
    const [family, given, middle, prefix, suffix] = components(propValues(n)[0], 'text').map((c) => (typeof c === 'string' ? c : c.join(' ')));
    const text = [prefix, given, middle, family, suffix].filter((c) => c !== undefined && c !== '').join(' ');
    if (text !== '') return text;
  }
  const org = props.find((p) => propName(p) === 'org');
  return org === undefined ? '' : textOf(org).split(';')[0] ?? '';
}

function to30(props: readonly JProp[]): OutProp[] {
  const out: OutProp[] = [];
  for (const prop of props) {
    const name = propName(prop);
    const type = propType(prop);
    if (name === 'kind') out.push(renamed(prop, '3.0', 'x-addressbookserver-kind', escapeText(textOf(prop).trim().toLowerCase(), '3.0', false)));
    else if (name === 'member') out.push(renamed(prop, '3.0', 'x-addressbookserver-member', scalar(propValues(prop)[0])));
    else if (name === 'gender') out.push(renamed(prop, '3.0', 'x-gender', escapeStructured(components(propValues(prop)[0], type), '3.0')));
    else if (name === 'anniversary') out.push(dateProp(prop, '3.0', 'x-anniversary'));
    else if (name === 'bday' || name === 'deathdate' || name === 'rev' || DATE_TYPES.has(type)) out.push(dateProp(prop, '3.0', name));
    else if (name === 'adr') {
      const converted = generic(prop, '3.0');
      const adr = { ...converted, params: converted.params.filter(([n]) => n !== 'label') };
      out.push(adr);
      const label = paramValues(prop[1], 'label')[0];
      const types = adr.params.find(([n]) => n === 'type');
      if (label !== undefined) out.push({ group: adr.group, name: 'label', params: types === undefined ? [] : [types], value: escapeText(label, '3.0', false) });
    } else if (name === 'tel') {
      const text = type === 'uri' ? telUriToText(scalar(propValues(prop)[0])) : textOf(prop);
      out.push({ group: propGroup(prop), name, params: convertParams(prop[1], '3.0'), value: escapeText(text, '3.0', false) });
    } else if (MEDIA_PROPS.has(name)) out.push(mediaTo30(prop));
    else if (name === 'geo' && type === 'uri' && geoFromUri(scalar(propValues(prop)[0])) !== null) {
      const [lat, lon] = geoFromUri(scalar(propValues(prop)[0])) ?? ['', ''];
      out.push({ group: propGroup(prop), name, params: convertParams(prop[1], '3.0'), value: `${lat};${lon}` });
    } else if (name === 'tz' && type !== 'uri') out.push(tzProp(prop, '3.0'));
    else out.push(generic(prop, '3.0'));
  }
  if (!out.some((p) => p.name === 'n')) out.splice(out.findIndex((p) => p.name === 'fn') + 1, 0, { group: undefined, name: 'n', params: [], value: ';;;;' });
  return out;
}

/** The VERSION of a card from parseCard/validateCard. */
export function cardVersion(card: ICAL.Component): CardVersion {
  const version = card.getFirstPropertyValue('version');
  if (version !== '3.0' && version !== '4.0') throw new Error('cardVersion: the card was not produced by validateCard/parseCard');
  return version;
}

/**
 * `text` (the stored vCard; `card` is its parse) in `targetVersion`: unchanged, byte for byte, when
 * it already is that version; otherwise rewritten as described above, CRLF line breaks, folded at
 * 75 octets, VERSION first.
 */
export function convertCard(text: string, card: ICAL.Component, targetVersion: CardVersion): string {
  if (cardVersion(card) === targetVersion) return text;
  const props = jProps(card).filter((p) => propName(p) !== 'version');
  const lines: string[] = [];
  for (const prop of targetVersion === '4.0' ? to40(props) : to30(props)) {
    const line = writeProp(prop);
    // A card holding both KIND and X-ADDRESSBOOKSERVER-KIND (and the like) would repeat itself.
    if (!(PAIRED.has(prop.name) && lines.includes(line))) lines.push(line);
  }
  return joinLines(['BEGIN:VCARD', `VERSION:${targetVersion}`, ...lines, 'END:VCARD']);
}
