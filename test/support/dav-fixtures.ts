// Shared builders for the CalDAV/CardDAV scenario tests: iCalendar and vCard bodies, collection
// creation, REPORT bodies, and readers for the multistatus, error and mkcol bodies clients parse.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { caldav, carddav, dav, type ClarkName } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { childElements, findChild, findChildren, textContent, type XmlElement } from '../../src/dav/xml/tree.ts';
import { parseMultistatus, type Harness, type TestResponse } from './harness.ts';

export const TEXT_CALENDAR = { 'content-type': 'text/calendar; charset=utf-8' } as const;
export const TEXT_VCARD = { 'content-type': 'text/vcard; charset=utf-8' } as const;
export const XML = { 'content-type': 'application/xml; charset=utf-8' } as const;

export const NS_DECL = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"';
export const CARD_NS_DECL = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"';

/** Lines joined with CRLF, ending with CRLF (RFC 5545 §3.1, RFC 6350 §3.2). */
export const crlf = (lines: readonly string[]): string => `${lines.join('\r\n')}\r\n`;

/** A VCALENDAR around the given component lines. */
export const ics = (...lines: string[]): string => crlf(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Almanac tests//EN', ...lines, 'END:VCALENDAR']);

/** A one-VEVENT calendar object. */
export function event(uid: string, lines: readonly string[]): string {
  return ics('BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT');
}

/** A one-VTODO calendar object. */
export function todo(uid: string, lines: readonly string[]): string {
  return ics('BEGIN:VTODO', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VTODO');
}

/** A vCard from its property lines, CRLF-terminated. */
export function vcard(version: '3.0' | '4.0', ...lines: string[]): string {
  return crlf(['BEGIN:VCARD', `VERSION:${version}`, ...lines, 'END:VCARD']);
}

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'corpus');

/** The bytes of a corpus file ("ical/…", "broken/…", "vcard/…"), as stored in the repository. */
export function corpusBytes(path: string): Buffer {
  return readFileSync(join(CORPUS, path));
}

/** The card with `UID:<uid>` added after its VERSION line, keeping the file's line breaks. */
export function withUid(text: string, uid: string): string {
  return text.replace(/^(VERSION:[^\r\n]*)(\r*\n)/imu, `$1$2UID:${uid}$2`);
}

export async function mkcalendar(h: Harness, path: string, options: { components?: readonly string[]; props?: string } = {}): Promise<TestResponse> {
  const set = options.components === undefined ? '' : `<C:supported-calendar-component-set>${options.components.map((c) => `<C:comp name="${c}"/>`).join('')}</C:supported-calendar-component-set>`;
  const props = `${set}${options.props ?? ''}`;
  const body = props === '' ? '' : `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar ${NS_DECL}><D:set><D:prop>${props}</D:prop></D:set></C:mkcalendar>`;
  return h.send('MKCALENDAR', path, body === '' ? {} : { headers: XML, body });
}

export async function mkaddressbook(h: Harness, path: string, props = ''): Promise<TestResponse> {
  return h.send('MKCOL', path, {
    headers: XML,
    body: `<?xml version="1.0" encoding="utf-8"?><D:mkcol ${CARD_NS_DECL}><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>${props}</D:prop></D:set></D:mkcol>`,
  });
}

export async function proppatch(h: Harness, path: string, setXml: string, namespaces = `${NS_DECL} xmlns:I="http://apple.com/ns/ical/"`): Promise<TestResponse> {
  return h.send('PROPPATCH', path, {
    headers: XML,
    body: `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate ${namespaces}><D:set><D:prop>${setXml}</D:prop></D:set></D:propertyupdate>`,
  });
}

/** The elements of the properties of one resource (Depth 0 PROPFIND), by Clark name. */
export async function propsOf(h: Harness, path: string, body: string): Promise<ReadonlyMap<ClarkName, { readonly status: string; readonly element: XmlElement }>> {
  const response = await h.send('PROPFIND', path, { headers: { depth: '0' }, body });
  if (response.status !== 207) throw new Error(`PROPFIND ${path}: ${response.status} ${response.text}`);
  const first = parseMultistatus(response.text)[0];
  if (first === undefined) throw new Error(`PROPFIND ${path}: no response`);
  return first.props;
}

/** A calendar-query body: the filter (inside C:filter) and the DAV:prop children. */
export function calendarQueryBody(filter: string, options: { prop?: string; extra?: string } = {}): string {
  return `<?xml version="1.0" encoding="utf-8"?><C:calendar-query ${NS_DECL}><D:prop>${options.prop ?? '<D:getetag/>'}</D:prop><C:filter>${filter}</C:filter>${options.extra ?? ''}</C:calendar-query>`;
}

/** VCALENDAR > comp (> time-range and inner). */
export function compFilter(component: string, inner = ''): string {
  return `<C:comp-filter name="VCALENDAR"><C:comp-filter name="${component}">${inner}</C:comp-filter></C:comp-filter>`;
}

export const timeRange = (start?: string, end?: string): string =>
  `<C:time-range${start === undefined ? '' : ` start="${start}"`}${end === undefined ? '' : ` end="${end}"`}/>`;

export interface QueryResult {
  readonly status: number;
  readonly text: string;
  /** The hrefs answered with properties, sorted. */
  readonly hrefs: string[];
  /** calendar-data / address-data text by href. */
  readonly data: ReadonlyMap<string, string>;
}

export async function report(h: Harness, path: string, body: string, depth = '1'): Promise<QueryResult> {
  const response = await h.send('REPORT', path, { headers: { depth, ...XML }, body });
  if (response.status !== 207) return { status: response.status, text: response.text, hrefs: [], data: new Map() };
  const responses = parseMultistatus(response.text).filter((r) => r.status === undefined);
  const data = new Map<string, string>();
  for (const r of responses) {
    const element = r.props.get(caldav('calendar-data')) ?? r.props.get(carddav('address-data'));
    if (element !== undefined) data.set(r.href, textContent(element.element));
  }
  return { status: 207, text: response.text, hrefs: responses.map((r) => r.href).sort(), data };
}

/** One response of a multistatus with its status and the names inside its DAV:error. */
export interface RawResponse {
  readonly href: string;
  readonly status: string | undefined;
  readonly errors: ClarkName[];
  readonly propstats: number;
}

export function rawResponses(text: string): RawResponse[] {
  const root = parseXml(text);
  return findChildren(root, dav('response')).map((response) => {
    const status = findChild(response, dav('status'));
    const error = findChild(response, dav('error'));
    return {
      href: textContent(findChild(response, dav('href')) ?? response),
      status: status === undefined ? undefined : textContent(status),
      errors: error === undefined ? [] : childElements(error).map((e) => e.name),
      propstats: findChildren(response, dav('propstat')).length,
    };
  });
}

/** The propstats of an mkcol-response / mkcalendar-response (RFC 5689 §5.2, RFC 4791 §9.3). */
export function creationPropstats(text: string, rootName: ClarkName): { status: string; props: ClarkName[]; errors: ClarkName[] }[] {
  const root = parseXml(text);
  if (root.name !== rootName) throw new Error(`expected ${rootName}, got ${root.name}`);
  return findChildren(root, dav('propstat')).map((propstat) => {
    const error = findChild(propstat, dav('error'));
    return {
      status: textContent(findChild(propstat, dav('status')) ?? propstat),
      props: childElements(findChild(propstat, dav('prop')) ?? propstat).map((e) => e.name),
      errors: error === undefined ? [] : childElements(error).map((e) => e.name),
    };
  });
}

/** The content lines of an iCalendar or vCard text, unfolded, without the line breaks (CRLF, LF, or the CR CR LF of some exports). */
export function contentLines(text: string): string[] {
  return text.replace(/\r*\n[ \t]/gu, '').split(/\r*\n/u).filter((line) => line !== '');
}

/** A request of test/fixtures/client-traces (see its README): request line, headers, and the body after the first blank line. */
export function clientTrace(path: string): { readonly method: string; readonly headers: Record<string, string>; readonly body: string } {
  const text = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'client-traces', path), 'utf8');
  const split = /\r?\n\r?\n/u.exec(text);
  if (split === null) throw new Error(`${path}: no blank line after the headers`);
  const [requestLine = '', ...headerLines] = text.slice(0, split.index).split(/\r?\n/u);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method: requestLine.split(' ')[0] ?? '', headers, body: text.slice(split.index + split[0].length).replace(/\r?\n$/u, '') };
}

/**
 * `text` (a vCard or iCalendar object ending with its END line and CRLF) grown to exactly `size`
 * octets by X-PAD lines of at most 75 octets inserted before the END line.
 */
export function padTo(text: string, size: number): string {
  const end = /END:[A-Z]+\r\n$/u.exec(text);
  if (end === null) throw new Error('padTo: the text must end with an END line and CRLF');
  let rest = size - Buffer.byteLength(text);
  if (rest !== 0 && rest < 9) throw new Error(`padTo: cannot add ${rest} octets`);
  const lines: string[] = [];
  while (rest > 0) {
    let k = Math.min(67, rest - 8);
    const left = rest - (8 + k);
    if (left > 0 && left < 9) k = rest - 17;
    lines.push(`X-PAD:${'p'.repeat(k)}\r\n`);
    rest -= 8 + k;
  }
  const padded = `${text.slice(0, end.index)}${lines.join('')}${end[0]}`;
  if (Buffer.byteLength(padded) !== size) throw new Error('padTo: miscounted');
  return padded;
}

/** The members of a Depth 1 listing of `collection` with their getetag ('' without one); each listed once. */
export function listedEtags(text: string, collection: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of parseMultistatus(text)) {
    if (entry.href === collection) continue;
    assert.equal(out.has(entry.href), false, `listed twice: ${entry.href}`);
    const etag = entry.props.get(dav('getetag'));
    out.set(entry.href, etag === undefined ? '' : textContent(etag.element));
  }
  return out;
}
