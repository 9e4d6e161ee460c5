// Value conversions between vCard 3.0 (RFC 2426) and 4.0 (RFC 6350): dates, UTC offsets, telephone
// URIs, GEO, and inline binary vs data: URIs with their media types. Pure functions on strings;
// imports nothing of ours.
import { Buffer } from 'node:buffer';

/** The year Apple Contacts writes for a date without year, with X-APPLE-OMIT-YEAR naming it. */
export const OMITTED_YEAR = '1604';

interface DateParts {
  readonly year: string | undefined;
  readonly month: string | undefined;
  readonly day: string | undefined;
  /** hh, mm, ss and zone ('Z', '+hh:mm' style or '+hh'), when there is a time part. */
  readonly time: { readonly h: string; readonly m: string | undefined; readonly s: string | undefined; readonly zone: string } | undefined;
}

const DATE_FORMS: readonly [RegExp, (m: RegExpExecArray) => Omit<DateParts, 'time'>][] = [
  [/^(\d{4})-?(\d{2})-?(\d{2})$/, (m) => ({ year: m[1], month: m[2], day: m[3] })],
  [/^--(\d{2})-?(\d{2})$/, (m) => ({ year: undefined, month: m[1], day: m[2] })],
  [/^(\d{4})-(\d{2})$/, (m) => ({ year: m[1], month: m[2], day: undefined })],
  [/^(\d{4})$/, (m) => ({ year: m[1], month: undefined, day: undefined })],
  [/^--(\d{2})$/, (m) => ({ year: undefined, month: m[1], day: undefined })],
  [/^---(\d{2})$/, (m) => ({ year: undefined, month: undefined, day: m[1] })],
  [/^$/, () => ({ year: undefined, month: undefined, day: undefined })],
];

const TIME = /^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Reads the date and/or time forms of RFC 6350 §4.3 (basic format, reduced precision, `--MMDD`) and
 * the ISO 8601 extended forms vCard 3.0 writers use (`1996-04-15`, `--04-15`, `T10:22:00Z`).
 */
function parseDateTime(value: string): DateParts | null {
  const [datePart = '', timePart, extra] = value.trim().split(/T/i);
  if (extra !== undefined) return null;
  let date: Omit<DateParts, 'time'> | null = null;
  for (const [pattern, read] of DATE_FORMS) {
    const m = pattern.exec(datePart);
    if (m !== null) {
      date = read(m);
      break;
    }
  }
  if (date === null) return null;
  if (timePart === undefined) return datePart === '' ? null : { ...date, time: undefined };
  const t = TIME.exec(timePart);
  if (t === null) return null;
  const h = t[1] ?? '00';
  return { ...date, time: { h, m: t[2], s: t[3], zone: (t[4] ?? '').toUpperCase() } };
}

function zoneBasic(zone: string): string {
  return zone.replace(':', '');
}

function zoneExtended(zone: string): string {
  return /^[+-]\d{4}$/.test(zone) ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
}

/**
 * A date/time for vCard 4.0 (RFC 6350 §4.3, basic format): `19960415`, `--0415`, `19531015T231000Z`.
 * When `omitYear` is given (3.0 X-APPLE-OMIT-YEAR) and equals the year, the year is dropped.
 * Null when `value` is no date, so the caller keeps it as text.
 */
export function dateTo40(value: string, omitYear?: string): string | null {
  const p = parseDateTime(value);
  if (p === null) return null;
  const year = p.year === omitYear ? undefined : p.year;
  let date: string;
  if (year !== undefined) date = p.month === undefined ? year : p.day === undefined ? `${year}-${p.month}` : `${year}${p.month}${p.day}`;
  else if (p.month !== undefined) date = `--${p.month}${p.day ?? ''}`;
  else date = p.day === undefined ? '' : `---${p.day}`;
  if (p.time === undefined) return date;
  const { h, m, s, zone } = p.time;
  return `${date}T${h}${m ?? ''}${m === undefined ? '' : s ?? ''}${zoneBasic(zone)}`;
}

/**
 * A date/time for vCard 3.0 (ISO 8601 extended, as RFC 2426 §3.1.5 shows it). A month and day
 * without year become Apple's form, year 1604 plus X-APPLE-OMIT-YEAR=1604. Null for what 3.0 cannot
 * express (a year alone, a month alone, a time alone), which the caller then writes as it came.
 */
export function dateTo30(value: string): { readonly value: string; readonly omitYear: boolean; readonly hasTime: boolean } | null {
  const p = parseDateTime(value);
  if (p === null || p.month === undefined || p.day === undefined) return null;
  const date = `${p.year ?? OMITTED_YEAR}-${p.month}-${p.day}`;
  const omitYear = p.year === undefined;
  if (p.time === undefined) return { value: date, omitYear, hasTime: false };
  const { h, m, s, zone } = p.time;
  return { value: `${date}T${h}:${m ?? '00'}:${s ?? '00'}${zoneExtended(zone)}`, omitYear, hasTime: true };
}

/** A UTC offset: `-0500` in vCard 4.0 (RFC 6350 §4.7), `-05:00` in 3.0 (RFC 2426 §3.4.1). */
export function utcOffsetFor(value: string, version: '3.0' | '4.0'): string {
  return version === '4.0' ? zoneBasic(value) : zoneExtended(value);
}

/**
 * A vCard 4.0 TEL URI as 3.0 text: `tel:+1-555-555-5555;ext=5555` → `+1-555-555-5555 ext. 5555`
 * (RFC 3966). Other tel: parameters (phone-context, isub) are dropped; other schemes stay whole.
 */
export function telUriToText(uri: string): string {
  if (!/^tel:/i.test(uri)) return uri;
  const [number = '', ...params] = uri.slice(4).split(';');
  const ext = params.find((p) => p.toLowerCase().startsWith('ext='));
  let text: string;
  try {
    text = decodeURIComponent(number);
  } catch {
    text = number;
  }
  return ext === undefined ? text : `${text} ext. ${ext.slice(4)}`;
}

/** 3.0 GEO `[lat, lon]` → 4.0 `geo:lat,lon` (RFC 6350 §6.5.2, RFC 5870). */
export function geoToUri(lat: string, lon: string): string {
  return `geo:${lat},${lon}`;
}

/** 4.0 `geo:lat,lon[,alt][;u=…]` → 3.0 `[lat, lon]` (altitude and uncertainty dropped); null when no geo: URI. */
export function geoFromUri(uri: string): readonly [string, string] | null {
  const m = /^geo:(-?[\d.]+),(-?[\d.]+)/i.exec(uri);
  return m === null ? null : [m[1] ?? '', m[2] ?? ''];
}

/** Properties whose value is a picture, sound or key: inline binary in 3.0, a (data:) URI in 4.0. */
export const MEDIA_PROPS: ReadonlySet<string> = new Set(['photo', 'logo', 'sound', 'key']);

const TOP: Readonly<Record<string, string>> = { photo: 'image', logo: 'image', sound: 'audio', key: 'application' };
const KEY_TYPES: Readonly<Record<string, string>> = { pgp: 'application/pgp-keys', x509: 'application/pkix-cert' };

/** A 3.0 TYPE format name (JPEG, PNG, BASIC, PGP, or a media type) → a media type for 4.0. */
export function mediaTypeFromFormat(prop: string, format: string): string {
  const lower = format.toLowerCase();
  if (lower.includes('/')) return lower;
  if (prop === 'key') return KEY_TYPES[lower] ?? `application/${lower}`;
  return `${TOP[prop] ?? 'application'}/${lower === 'jpg' ? 'jpeg' : lower}`;
}

/** A media type → the 3.0 TYPE format name: image/jpeg → JPEG, application/pgp-keys → PGP. */
export function formatFromMediaType(mediaType: string): string | undefined {
  const lower = mediaType.toLowerCase();
  for (const [format, type] of Object.entries(KEY_TYPES)) if (type === lower) return format.toUpperCase();
  if (lower === 'application/octet-stream' || !lower.includes('/')) return undefined;
  return lower.slice(lower.indexOf('/') + 1).toUpperCase();
}

/** The media type of inline bytes from their signature, for 3.0 pictures sent without TYPE. */
export function sniffMediaType(base64: string): string {
  const head = Buffer.from(base64.slice(0, 24), 'base64');
  const hex = head.toString('hex');
  if (hex.startsWith('ffd8ff')) return 'image/jpeg';
  if (hex.startsWith('89504e47')) return 'image/png';
  if (hex.startsWith('474946')) return 'image/gif';
  if (hex.startsWith('52494646') && head.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (hex.startsWith('424d')) return 'image/bmp';
  return 'application/octet-stream';
}

/** RFC 2397 data: URI with base64 content. */
export function toDataUri(mediaType: string, base64: string): string {
  return `data:${mediaType};base64,${base64.replace(/\s+/g, '')}`;
}

/** A data: URI → its media type and content as base64; null when `uri` is not a data: URI. */
export function fromDataUri(uri: string): { readonly mediaType: string; readonly base64: string } | null {
  const m = /^data:([^,]*),(.*)$/is.exec(uri);
  if (m === null) return null;
  const meta = (m[1] ?? '').split(';');
  const isBase64 = meta.at(-1)?.toLowerCase() === 'base64';
  const mediaType = meta[0] === '' || meta[0] === undefined ? 'application/octet-stream' : meta[0].toLowerCase();
  const data = m[2] ?? '';
  if (isBase64) return { mediaType, base64: data.replace(/\s+/g, '') };
  return { mediaType, base64: percentDecode(data).toString('base64') };
}

/** RFC 3986 percent-decoding to bytes; characters that are not escapes stand for their UTF-8 bytes. */
function percentDecode(data: string): Buffer {
  const chunks = [...data.matchAll(/%([0-9a-f]{2})|[^%]+|%/gi)].map((m) =>
    m[1] === undefined ? Buffer.from(m[0], 'utf8') : Buffer.from([Number.parseInt(m[1], 16)]));
  return Buffer.concat(chunks);
}
