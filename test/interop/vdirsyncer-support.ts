// Helpers for the vdirsyncer interop test: items to sync, a small DAV client over real HTTP, the local
// vdir (one file per item), running vdirsyncer and reading what it did from its log lines.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dav } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { findChild, textContent } from '../../src/dav/xml/tree.ts';
import { parseMultistatus } from '../support/harness.ts';

// ---- items ---------------------------------------------------------------------------------------

/** An iCalendar object: VEVENT or VTODO, with non-ASCII text so byte fidelity matters. */
export function calendarItem(uid: string, summary: string, options: { todo?: boolean; eol?: string; day?: number } = {}): string {
  const day = String(1 + ((options.day ?? 0) % 28)).padStart(2, '0');
  const component = options.todo === true
    ? ['BEGIN:VTODO', `UID:${uid}`, 'DTSTAMP:20250101T000000Z', `DUE:202503${day}T170000Z`, `SUMMARY:${summary}`, 'STATUS:NEEDS-ACTION', 'END:VTODO']
    : ['BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20250101T000000Z', `DTSTART:202503${day}T090000Z`, `DTEND:202503${day}T100000Z`, `SUMMARY:${summary}`, 'LOCATION:Salle ☕ 3', 'END:VEVENT'];
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Almanac tests//vdirsyncer//EN', ...component, 'END:VCALENDAR'];
  const eol = options.eol ?? '\r\n';
  return lines.join(eol) + eol;
}

/** A vCard 3.0 or 4.0 with UID and FN. */
export function cardItem(uid: string, name: string, options: { v4?: boolean; eol?: string } = {}): string {
  const lines = options.v4 === true
    ? ['BEGIN:VCARD', 'VERSION:4.0', `UID:${uid}`, `FN:${name}`, `N:${name};;;;`, 'EMAIL:someone@example.org', 'END:VCARD']
    : ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${name}`, `N:${name};;;;`, 'TEL;TYPE=CELL:+33 6 12 34 56 78', 'END:VCARD'];
  const eol = options.eol ?? '\r\n';
  return lines.join(eol) + eol;
}

/** Line endings normalised, so an item written with LF compares equal to the same item with CRLF. */
export const normalise = (text: string): string => text.replace(/\r\n/gu, '\n');

/** The UID of an iCalendar object or vCard (unfolded). */
export function uidOf(text: string): string {
  const unfolded = normalise(text).replace(/\n[ \t]/gu, '');
  const match = /^UID:(.*)$/mu.exec(unfolded);
  if (match?.[1] === undefined) throw new Error(`item without UID:\n${text}`);
  return match[1].trim();
}

// ---- the server, over HTTP -----------------------------------------------------------------------

export interface ServerItem {
  readonly href: string;
  readonly etag: string;
  readonly content: string;
}

export interface SyncAnswer {
  readonly token: string;
  readonly changed: string[];
  readonly removed: string[];
}

export class DavClient {
  private readonly base: string;
  private readonly authorization: string;

  constructor(base: string, user: string, password: string) {
    this.base = base.replace(/\/$/u, '');
    this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }

  async request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Headers; text: string }> {
    const init: RequestInit = { method, headers: { authorization: this.authorization, ...headers } };
    if (body !== undefined) init.body = body;
    const response = await fetch(`${this.base}${path}`, init);
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** PUTs an item and returns the status and the ETag the server answered with. */
  async put(path: string, body: string, contentType: string, precondition: Record<string, string> = {}): Promise<{ status: number; etag: string | null }> {
    const response = await this.request('PUT', path, { 'content-type': `${contentType}; charset=utf-8`, ...precondition }, body);
    return { status: response.status, etag: response.headers.get('etag') };
  }

  /** The members of a collection with their ETags (PROPFIND Depth 1). */
  async members(collection: string): Promise<Map<string, string>> {
    const body = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>';
    const response = await this.request('PROPFIND', collection, { depth: '1', 'content-type': 'application/xml' }, body);
    if (response.status !== 207) throw new Error(`PROPFIND ${collection} → ${response.status}: ${response.text}`);
    const members = new Map<string, string>();
    for (const entry of parseMultistatus(response.text)) {
      const href = decodeURIComponent(entry.href.replace(/^https?:\/\/[^/]+/u, ''));
      if (href === collection) continue;
      const etag = entry.props.get(dav('getetag'));
      if (etag === undefined) throw new Error(`member ${href} has no getetag`);
      members.set(href, textContent(etag.element));
    }
    return members;
  }

  /** Every member of a collection with its content, by UID (asserting one member per UID). */
  async items(collection: string): Promise<Map<string, ServerItem>> {
    const members = [...(await this.members(collection))];
    const items = new Map<string, ServerItem>();
    await inBatches(members, 16, async ([href, listedEtag]) => {
      const response = await this.request('GET', encodeURI(href));
      if (response.status !== 200) throw new Error(`GET ${href} → ${response.status}`);
      const etag = response.headers.get('etag');
      if (etag !== listedEtag) throw new Error(`GET ${href} answered ETag ${etag ?? 'none'} but PROPFIND listed ${listedEtag}`);
      const uid = uidOf(response.text);
      if (items.has(uid)) throw new Error(`two members of ${collection} carry UID ${uid}`);
      items.set(uid, { href, etag: listedEtag, content: response.text });
    });
    return items;
  }

  /** RFC 6578 sync-collection with getetag, level 1. */
  async sync(collection: string, token: string): Promise<SyncAnswer> {
    const body = `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;
    const response = await this.request('REPORT', collection, { depth: '0', 'content-type': 'application/xml' }, body);
    if (response.status !== 207) throw new Error(`sync-collection on ${collection} → ${response.status}: ${response.text}`);
    const entries = parseMultistatus(response.text);
    const tokenElement = findChild(parseXml(response.text), dav('sync-token'));
    return {
      token: tokenElement === undefined ? '' : textContent(tokenElement),
      changed: entries.filter((e) => e.status === undefined).map((e) => e.href),
      removed: entries.filter((e) => e.status !== undefined).map((e) => `${e.status ?? ''} ${e.href}`),
    };
  }
}

export async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

// ---- the local side: a vdir --------------------------------------------------------------------

export interface LocalItem {
  readonly file: string;
  readonly content: string;
}

/** Every item file of a vdir, by UID (asserting one file per UID). */
export function localItems(dir: string, extension: string): Map<string, LocalItem> {
  const items = new Map<string, LocalItem>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(extension)) throw new Error(`unexpected file ${file} in ${dir}`);
    const content = readFileSync(join(dir, file), 'utf8');
    const uid = uidOf(content);
    if (items.has(uid)) throw new Error(`two files of ${dir} carry UID ${uid}`);
    items.set(uid, { file, content });
  }
  return items;
}

/** Writes a file the way an editor saving atomically does (new inode, new mtime). */
export function writeLocal(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

export function deleteLocal(path: string): void {
  unlinkSync(path);
}

// ---- vdirsyncer ----------------------------------------------------------------------------------

export interface VdirsyncerRun {
  readonly code: number;
  readonly output: string;
  /** What vdirsyncer did, one entry per log line: `upload|update|delete <ident> <storage>`, `conflict <ident>`. */
  readonly actions: string[];
}

export function runVdirsyncer(config: string, args: readonly string[], home: string): Promise<VdirsyncerRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'vdirsyncer',
      ['--config', config, ...args],
      // A UTF-8 locale (click refuses ASCII), and a HOME of our own so no user configuration leaks in.
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`vdirsyncer ${args.join(' ')} did not run: ${error.message}\n${output}`));
          return;
        }
        resolve({ code: error === null ? 0 : Number(error.code), output, actions: parseActions(output) });
      },
    );
    child.stdin?.end();
  });
}

export function parseActions(output: string): string[] {
  const actions: string[] = [];
  for (const line of output.split('\n')) {
    let match = /^Copying \((uploading|updating)\) item (.+) to (\S+)$/u.exec(line);
    if (match !== null) {
      actions.push(`${match[1] === 'uploading' ? 'upload' : 'update'} ${match[2] ?? ''} ${match[3] ?? ''}`);
      continue;
    }
    match = /^Deleting item (.+) from (\S+)$/u.exec(line);
    if (match !== null) {
      actions.push(`delete ${match[1] ?? ''} ${match[2] ?? ''}`);
      continue;
    }
    match = /^Doing conflict resolution for item (.+)\.\.\.$/u.exec(line);
    if (match !== null) actions.push(`conflict ${match[1] ?? ''}`);
  }
  return actions.sort();
}
