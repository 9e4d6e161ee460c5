// The load oracle's knowledge (load-oracle.ts): every collection's true membership, from the
// generator's manifest plus the oracle's own acknowledged writes, and the checks of answers against
// it — exact listings, incremental sync deltas, multiget and GET contents. Pure: no I/O.

export interface Member {
  readonly uid: string;
  /** Known once the oracle wrote it itself (the PUT's ETag); undefined for seeded objects. */
  readonly etag: string | undefined;
}

export interface SyncBase {
  readonly token: string;
  /** Names written or deleted since the token was issued. */
  readonly touched: Set<string>;
  /** The members when the token was issued (created-then-deleted names may be left out). */
  readonly before: ReadonlySet<string>;
}

export interface CollectionModel {
  readonly href: string;
  readonly kind: 'calendar' | 'addressbook';
  readonly auth: string;
  readonly members: Map<string, Member>;
  /** Names whose last write got no definite answer (503, timeout): neither required nor forbidden. */
  readonly uncertain: Set<string>;
  /** Names the oracle wrote or deleted (checked again at the end: lost acknowledged writes). */
  readonly written: Set<string>;
  sync: SyncBase | undefined;
  nextIndex: number;
  busy: boolean;
}

export interface ListedEntry {
  readonly name: string;
  readonly status: number;
  readonly etag: string | undefined;
  readonly body: string;
}

export interface Multistatus {
  readonly entries: ListedEntry[];
  readonly syncToken: string | undefined;
  /** A 507 on the collection itself: the server truncated the answer (RFC 6578 §3.6). */
  readonly truncated: boolean;
}

const RESPONSE = /<(?:[\w-]+:)?response\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?response>/gu;

function tag(block: string, name: string): string | undefined {
  return new RegExp(`<(?:[\\w-]+:)?${name}\\b[^>]*>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`, 'u').exec(block)?.[1];
}

function unescapeXml(text: string): string {
  return text.replace(/&quot;/gu, '"').replace(/&apos;/gu, "'").replace(/&lt;/gu, '<').replace(/&gt;/gu, '>').replace(/&#13;/gu, '\r').replace(/&amp;/gu, '&');
}

function statusCode(text: string | undefined): number {
  return Number(/HTTP\/\d(?:\.\d)?\s+(\d{3})/u.exec(text ?? '')?.[1] ?? '0');
}

/** Splits a 207 body into its responses, keyed by last path segment ('' for the collection). */
export function parseMultistatus(xml: string, collectionHref: string): Multistatus {
  const entries: ListedEntry[] = [];
  let truncated = false;
  for (const match of xml.matchAll(RESPONSE)) {
    const block = match[1] ?? '';
    const href = decodeURIComponent(unescapeXml(tag(block, 'href') ?? '').trim());
    const path = href.replace(/^https?:\/\/[^/]+/u, '');
    const name = path === collectionHref || `${path}/` === collectionHref ? '' : (path.split('/').pop() ?? '');
    // A response's own status (404 in a sync delta), else its first propstat's.
    const direct = /^\s*(?:<[^>]*href>[^<]*<\/[^>]*href>\s*)+<(?:[\w-]+:)?status>([^<]*)</u.exec(block)?.[1];
    const status = statusCode(direct ?? tag(block, 'status'));
    if (name === '' && status === 507) truncated = true;
    const etag = tag(block, 'getetag');
    entries.push({ name, status, etag: etag === undefined ? undefined : unescapeXml(etag.trim()), body: unescapeXml(block) });
  }
  const outside = xml.replace(RESPONSE, '');
  const token = tag(outside, 'sync-token');
  return { entries, syncToken: token === undefined ? undefined : unescapeXml(token.trim()), truncated };
}

export interface Verdict {
  /** 'short' | 'empty' | 'wrong' problems, each with a description. */
  readonly problems: { readonly kind: 'short' | 'empty' | 'wrong'; readonly message: string }[];
}

function described(collection: CollectionModel, text: string): string {
  return `${collection.href}: ${text}`;
}

/** A full listing (PROPFIND Depth 1, initial sync) must hold exactly the members. */
export function checkFullListing(collection: CollectionModel, listing: Multistatus, what: string): Verdict {
  const problems: Verdict['problems'][number][] = [];
  const listed = new Map(listing.entries.filter((e) => e.name !== '' && e.status === 200).map((e) => [e.name, e]));
  const required = [...collection.members.keys()].filter((name) => !collection.uncertain.has(name));
  const missing = required.filter((name) => !listed.has(name));
  if (missing.length > 0) {
    const kind = listed.size === 0 ? 'empty' : 'short';
    problems.push({ kind, message: described(collection, `${what} lists ${listed.size} members, ${missing.length} of ${required.length} missing (e.g. ${missing.slice(0, 3).join(', ')})`) });
  }
  const extra = [...listed.keys()].filter((name) => !collection.members.has(name) && !collection.uncertain.has(name));
  if (extra.length > 0) problems.push({ kind: 'wrong', message: described(collection, `${what} lists ${extra.length} objects that do not exist (e.g. ${extra.slice(0, 3).join(', ')})`) });
  for (const [name, entry] of listed) {
    const known = collection.members.get(name)?.etag;
    if (known !== undefined && entry.etag !== known && !collection.uncertain.has(name)) {
      problems.push({ kind: 'wrong', message: described(collection, `${what}: ${name} has ETag ${entry.etag ?? 'none'}, acknowledged ${known}`) });
    }
  }
  return { problems };
}

/** An incremental sync must report exactly what the oracle changed since the token. */
export function checkSyncDelta(collection: CollectionModel, base: SyncBase, delta: Multistatus): Verdict {
  const problems: Verdict['problems'][number][] = [];
  const reported = new Map(delta.entries.filter((e) => e.name !== '').map((e) => [e.name, e]));
  for (const name of base.touched) {
    if (collection.uncertain.has(name)) continue;
    const entry = reported.get(name);
    const present = collection.members.has(name);
    if (entry === undefined) {
      const createdAndDeleted = !present && !base.before.has(name);
      if (!delta.truncated && !createdAndDeleted) problems.push({ kind: 'short', message: described(collection, `incremental sync misses the change of ${name}`) });
    } else if (present && entry.status !== 200) {
      problems.push({ kind: 'wrong', message: described(collection, `incremental sync reports ${name} as ${entry.status}, it exists`) });
    } else if (!present && entry.status !== 404) {
      problems.push({ kind: 'wrong', message: described(collection, `incremental sync reports ${name} as ${entry.status}, it was deleted`) });
    }
  }
  const unexplained = [...reported.keys()].filter((name) => !base.touched.has(name) && !collection.uncertain.has(name));
  if (unexplained.length > 0) problems.push({ kind: 'wrong', message: described(collection, `incremental sync reports ${unexplained.length} unchanged objects (e.g. ${unexplained.slice(0, 3).join(', ')})`) });
  return { problems };
}

/** A multiget must answer each asked member with its data, and 404 for what does not exist. */
export function checkMultiget(collection: CollectionModel, asked: readonly string[], answer: Multistatus): Verdict {
  const problems: Verdict['problems'][number][] = [];
  const byName = new Map(answer.entries.map((e) => [e.name, e]));
  for (const name of asked) {
    if (collection.uncertain.has(name)) continue;
    const entry = byName.get(name);
    const member = collection.members.get(name);
    if (entry === undefined) {
      problems.push({ kind: 'short', message: described(collection, `multiget leaves out ${name}`) });
    } else if (member === undefined) {
      if (entry.status !== 404) problems.push({ kind: 'wrong', message: described(collection, `multiget answers ${entry.status} for missing ${name}`) });
    } else if (entry.status !== 200 || !entry.body.includes(member.uid)) {
      problems.push({ kind: 'wrong', message: described(collection, `multiget answers ${name} with ${entry.status}${entry.status === 200 ? ' and other data' : ''}`) });
    } else if (member.etag !== undefined && entry.etag !== member.etag) {
      problems.push({ kind: 'wrong', message: described(collection, `multiget: ${name} has ETag ${entry.etag ?? 'none'}, acknowledged ${member.etag}`) });
    }
  }
  return { problems };
}

/** Percentile of already sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

/**
 * Whether the answer to a write retried after its connection was reset says only that the first
 * attempt may have been done (a server killed with -9 after its COMMIT): the retry's precondition
 * fails (412), or a DELETE finds nothing left (404, which RFC 9110 §13.2.1 answers before the
 * preconditions). Not acknowledged, so the object is uncertain, not wrong.
 */
export function retriedWriteUncertain(method: string, status: number): boolean {
  return status === 412 || (status === 404 && method === 'DELETE');
}
