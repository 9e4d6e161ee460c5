// Concurrent writers and an incremental sync-collection reader on a calendar and an address book: the
// reader, applying each answer to its own copy, ends with exactly the server's final state (no change
// skipped), whether the writes come through the server or through a second store connection.
import assert from 'node:assert/strict';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { dav } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { findChild, textContent } from '../../src/dav/xml/tree.ts';
import { NotFound } from '../../src/store/errors.ts';
import type { Store } from '../../src/store/store.ts';
import { Harness, parseMultistatus, propfindBody } from '../support/harness.ts';

const CALENDAR = '/calendars/alice/default/';
const BOOK = '/addressbooks/alice/default/';
const WRITERS = 4;
const OPERATIONS_PER_WRITER = 100;
const OWN_NAMES = 8;
const SHARED_NAMES = 4;

interface Target {
  readonly path: string;
  readonly extension: string;
  readonly contentType: string;
  readonly component: string;
  body(uid: string, text: string): string;
}

const TARGETS: readonly Target[] = [
  {
    path: CALENDAR,
    extension: '.ics',
    contentType: 'text/calendar',
    component: 'VEVENT',
    body: (uid, text) =>
      `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Almanac tests//concurrency//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250301T090000Z\r\nSUMMARY:${text}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`,
  },
  {
    path: BOOK,
    extension: '.vcf',
    contentType: 'text/vcard',
    component: 'VCARD',
    body: (uid, text) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${text}\r\nN:${text};;;;\r\nEND:VCARD\r\n`,
  },
];

/** A small deterministic PRNG (mulberry32), so a failing interleaving can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How a writer changes things: through the server (HTTP semantics) or straight through a store connection. */
interface Writer {
  put(target: Target, name: string, uid: string, text: string): Promise<void>;
  remove(target: Target, name: string): Promise<void>;
  move(target: Target, from: string, to: string): Promise<void>;
}

function httpWriter(h: Harness): Writer {
  return {
    async put(target, name, uid, text) {
      const response = await h.send('PUT', `${target.path}${name}`, { headers: { 'content-type': target.contentType }, body: target.body(uid, text) });
      assert.ok([201, 204].includes(response.status), `PUT ${name} → ${response.status} ${response.text}`);
    },
    async remove(target, name) {
      const response = await h.send('DELETE', `${target.path}${name}`);
      assert.ok([204, 404].includes(response.status), `DELETE ${name} → ${response.status} ${response.text}`);
    },
    async move(target, from, to) {
      const response = await h.send('MOVE', `${target.path}${from}`, { headers: { destination: `${target.path}${to}`, overwrite: 'T' } });
      assert.ok([201, 204, 404].includes(response.status), `MOVE ${from} → ${to}: ${response.status} ${response.text}`);
    },
  };
}

/** Writes through another store connection on the same database, as another process would. */
async function storeWriter(store: Store): Promise<Writer> {
  const ids = new Map<string, number>();
  for (const target of TARGETS) ids.set(target.path, (await store.getCollection(target.path) ?? assert.fail(`${target.path} exists`)).id);
  const idOf = (target: Target): number => ids.get(target.path) ?? assert.fail('collection id');
  const ignoreMissing = (error: unknown): void => {
    if (!(error instanceof NotFound)) throw error;
  };
  return {
    async put(target, name, uid, text) {
      await store.putObject({
        collectionId: idOf(target),
        name,
        body: Buffer.from(target.body(uid, text), 'utf8'),
        contentType: target.contentType,
        metadata: { uid, component: target.component },
      });
    },
    async remove(target, name) {
      await store.deleteObject(idOf(target), name).catch(ignoreMissing);
    },
    async move(target, from, to) {
      await store.moveObject(idOf(target), from, { parentId: idOf(target), name: to, replace: true }).catch(ignoreMissing);
    },
  };
}

/** One writer's loop: PUTs (creations and updates), DELETEs and MOVEs on its own names and on names all writers share. */
async function write(writer: Writer, index: number, nextUid: () => number): Promise<void> {
  const next = random(1000 + index);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] ?? assert.fail('empty');
  const name = (target: Target): string =>
    next() < 0.35 ? `shared-${Math.floor(next() * SHARED_NAMES)}${target.extension}` : `w${index}-${Math.floor(next() * OWN_NAMES)}${target.extension}`;
  for (let op = 0; op < OPERATIONS_PER_WRITER; op++) {
    const target = pick(TARGETS);
    const roll = next();
    // Every write carries a UID of its own, so a MOVE never makes two names share one (no-uid-conflict).
    if (roll < 0.55) await writer.put(target, name(target), `uid-${nextUid()}`, `writer ${index} op ${op}`);
    else if (roll < 0.8) await writer.remove(target, name(target));
    else {
      const from = name(target);
      const to = name(target);
      if (from !== to) await writer.move(target, from, to);
    }
    if (next() < 0.3) await yieldToLoop();
  }
}

/** A client's copy of a collection, kept up to date with incremental sync-collection only. */
class Reader {
  readonly members = new Map<string, string>();
  token = '';
  syncs = 0;
  /** Incremental syncs that brought at least one change. */
  fruitful = 0;
  private lastSeq = -1;
  private readonly h: Harness;
  private readonly path: string;

  constructor(h: Harness, path: string) {
    this.h = h;
    this.path = path;
  }

  /** Syncs from the last token until the server says the answer is complete, paging when given a limit. */
  async pull(limit?: number): Promise<void> {
    for (;;) {
      const nresults = limit === undefined ? '' : `<D:limit><D:nresults>${limit}</D:nresults></D:limit>`;
      const body = `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${this.token}</D:sync-token><D:sync-level>1</D:sync-level>${nresults}<D:prop><D:getetag/></D:prop></D:sync-collection>`;
      const response = await this.h.send('REPORT', this.path, { headers: { depth: '0' }, body });
      assert.equal(response.status, 207, `sync-collection from ${this.token || 'the start'}: ${response.text}`);
      const tokenElement = findChild(parseXml(response.text), dav('sync-token')) ?? assert.fail('the answer carries a sync-token');
      const token = textContent(tokenElement);
      const seq = Number(/\/(\d+)$/u.exec(token)?.[1] ?? Number.NaN);
      assert.ok(seq >= this.lastSeq, `tokens never go back: ${token} after position ${this.lastSeq}`);
      let truncated = false;
      let changes = 0;
      for (const entry of parseMultistatus(response.text)) {
        if (entry.href === this.path) {
          assert.equal(entry.status, 'HTTP/1.1 507 Insufficient Storage', 'only a truncation marker names the collection');
          truncated = true;
        } else if (entry.status === 'HTTP/1.1 404 Not Found') {
          assert.notEqual(this.token, '', 'an initial sync lists no removals');
          this.members.delete(entry.href);
          changes += 1;
        } else {
          assert.equal(entry.status, undefined, `unexpected status for ${entry.href}: ${entry.status ?? ''}`);
          const etag = entry.props.get(dav('getetag'));
          assert.equal(etag?.status, 'HTTP/1.1 200 OK', `${entry.href} comes with its ETag`);
          this.members.set(entry.href, textContent(etag.element));
          changes += 1;
        }
      }
      this.syncs += 1;
      if (changes > 0 && this.token !== '') this.fruitful += 1;
      this.token = token;
      this.lastSeq = seq;
      if (!truncated) return;
    }
  }
}

/** The server's state of a collection: member hrefs and their ETags from a Depth 1 PROPFIND. */
async function serverState(h: Harness, path: string): Promise<Map<string, string>> {
  const response = await h.send('PROPFIND', path, { headers: { depth: '1' }, body: propfindBody(dav('getetag')) });
  assert.equal(response.status, 207);
  const state = new Map<string, string>();
  for (const entry of parseMultistatus(response.text)) {
    if (entry.href === path) continue;
    state.set(entry.href, textContent(entry.props.get(dav('getetag'))?.element ?? assert.fail(`${entry.href} has an ETag`)));
  }
  return state;
}

/** Runs the writers and the readers side by side, then checks the readers against the server. */
async function race(h: Harness, writers: readonly Writer[]): Promise<void> {
  const readers = TARGETS.map((target) => new Reader(h, target.path));
  for (const reader of readers) await reader.pull();
  let uid = 0;
  let done = false;
  const writing = Promise.all(writers.map((writer, index) => write(writer, index, () => (uid += 1)))).finally(() => {
    done = true;
  });
  const reading = (async () => {
    for (let round = 0; !done; round++) {
      // Alternate whole answers with small pages, so truncation tokens are exercised under writes too.
      for (const reader of readers) await reader.pull(round % 3 === 2 ? 3 : undefined);
      await yieldToLoop();
    }
  })();
  await Promise.all([writing, reading]);
  for (const reader of readers) await reader.pull();

  for (const reader of readers) {
    const path = TARGETS[readers.indexOf(reader)]?.path ?? '';
    const expected = await serverState(h, path);
    assert.ok(expected.size > 0, `${path} ends with members`);
    assert.ok(reader.fruitful > 1, `${path}: the reader synced changes while the writers ran (${reader.fruitful} times)`);
    assert.deepEqual(
      [...reader.members].sort(([a], [b]) => a.localeCompare(b)),
      [...expected].sort(([a], [b]) => a.localeCompare(b)),
      `${path}: the reader's copy is the server's final state`,
    );
    // And one more sync from the final token has nothing to add.
    const settled = reader.token;
    await reader.pull();
    assert.equal(reader.token, settled);
  }
}

void describe('sync-collection under concurrent writers', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start(['alice']);
  });
  afterEach(async () => h.close());

  void it(`a syncing reader misses nothing while ${WRITERS} writers PUT, DELETE and MOVE through the server`, async () => {
    await race(h, Array.from({ length: WRITERS }, () => httpWriter(h)));
  });

  void it('a syncing reader misses nothing while writers use both the server and a second store connection (another process)', async () => {
    // The homes exist once the user has made a request.
    assert.equal((await h.send('PROPFIND', CALENDAR, { headers: { depth: '0' }, body: propfindBody(dav('getetag')) })).status, 207);
    const other = await h.openAnotherStore();
    try {
      const outside = await storeWriter(other);
      await race(h, [outside, outside, httpWriter(h), httpWriter(h)]);
    } finally {
      await other.close();
    }
  });
});
