// Reading 207 Multi-Status answers the simple way a benchmark can afford (regular expressions, any
// namespace prefix or a default namespace): each response's href, status, getetag, getctag,
// sync-token and calendar-data/address-data, plus the sync-token of a sync-collection answer.

export interface MultistatusEntry {
  /** Decoded path (absolute hrefs reduced to their path). */
  readonly href: string;
  /** The response's own <status> (e.g. 404 for a removed member in sync-collection), if any. */
  readonly status: number | undefined;
  /** Status of the propstat carrying the found properties, if any. */
  readonly propStatus: number | undefined;
  readonly etag: string | undefined;
  readonly ctag: string | undefined;
  readonly syncToken: string | undefined;
  /** calendar-data or address-data text, entity-decoded. */
  readonly data: string | undefined;
}

export interface Multistatus {
  /** Count of <response> start tags, complete or not. */
  readonly openTags: number;
  readonly entries: readonly MultistatusEntry[];
  /** The multistatus-level sync-token (RFC 6578 §6.4). */
  readonly syncToken: string | undefined;
}

const P = '(?:[A-Za-z_][\\w.-]*:)?';
const RESPONSE_OPEN = new RegExp(`<${P}response[\\s>]`, 'gu');
const RESPONSE_BLOCK = new RegExp(`<${P}response[\\s>][\\s\\S]*?</${P}response\\s*>`, 'gu');
const PROPSTAT_BLOCK = new RegExp(`<${P}propstat[\\s>][\\s\\S]*?</${P}propstat\\s*>`, 'gu');

function element(name: string): RegExp {
  return new RegExp(`<${P}${name}(\\s[^>]*)?>([\\s\\S]*?)</${P}${name}\\s*>`, 'u');
}
const HREF = element('href');
const STATUS = element('status');
const GETETAG = element('getetag');
const GETCTAG = element('getctag');
const SYNC_TOKEN = element('sync-token');
const DATA = new RegExp(`<${P}(calendar-data|address-data)(\\s[^>]*)?>([\\s\\S]*?)</${P}\\1\\s*>`, 'u');

export function decodeXmlText(text: string): string {
  const cdata = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/u.exec(text);
  if (cdata !== null) return cdata[1] ?? '';
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|quot|amp|lt|gt|apos);/gu, (_, entity: string) => {
    switch (entity) {
      case 'quot':
        return '"';
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
    }
  });
}

function text(pattern: RegExp, block: string): string | undefined {
  const match = pattern.exec(block);
  if (match === null || (match[1] ?? '').endsWith('/')) return undefined;
  const value = decodeXmlText(match[2] ?? '').trim();
  return value === '' ? undefined : value;
}

function statusCode(line: string | undefined): number | undefined {
  const code = /HTTP\/[\d.]+\s+(\d{3})/u.exec(line ?? '')?.[1];
  return code === undefined ? undefined : Number(code);
}

export function hrefPath(raw: string): string {
  const path = raw.startsWith('/') ? raw : new URL(raw, 'http://x/').pathname;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function parseMultistatus(xml: string): Multistatus {
  const openTags = xml.match(RESPONSE_OPEN)?.length ?? 0;
  const entries: MultistatusEntry[] = [];
  let firstStart = -1;
  let lastEnd = 0;
  for (const match of xml.matchAll(RESPONSE_BLOCK)) {
    const block = match[0];
    if (firstStart === -1) firstStart = match.index;
    lastEnd = match.index + block.length;
    const propstats = block.match(PROPSTAT_BLOCK) ?? [];
    const outside = propstats.reduce((rest, p) => rest.replace(p, ''), block);
    // The found properties are in the 200 propstat; absent ones come back empty in a 404 one.
    const found = propstats.find((p) => statusCode(text(STATUS, p)) === 200) ?? propstats[0] ?? '';
    const dataMatch = DATA.exec(found);
    entries.push({
      href: hrefPath(text(HREF, outside) ?? ''),
      status: statusCode(text(STATUS, outside)),
      propStatus: statusCode(text(STATUS, found)),
      etag: text(GETETAG, found),
      ctag: text(GETCTAG, found),
      syncToken: text(SYNC_TOKEN, found),
      data: dataMatch === null || (dataMatch[2] ?? '').endsWith('/') ? undefined : decodeXmlText(dataMatch[3] ?? ''),
    });
  }
  // The multistatus-level token follows the responses (RFC 6578 §6.4), or precedes them (Radicale).
  const syncToken = text(SYNC_TOKEN, xml.slice(lastEnd)) ?? (firstStart > 0 ? text(SYNC_TOKEN, xml.slice(0, firstStart)) : undefined);
  return { openTags, entries, syncToken };
}

/** Last path segment of an href, the resource name the benchmark knows objects by. */
export function memberName(href: string): string {
  const trimmed = href.endsWith('/') ? href.slice(0, -1) : href;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
