// The per-process cache of address books' search texts (src/carddav/search-text-cache.ts) on a real
// store (SQLite, or PostgreSQL with ALMANAC_TEST_STORE=postgres): a book is read whole once, then only
// the members changed since; a held copy is used while the book's position is unchanged; concurrent
// queries of a cold book read it once; a book too large for the cap is left to the store; least
// recently used books go first; another collection under a reused id is not served.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SearchTextCache } from '../../src/carddav/search-text-cache.ts';
import type { SearchIndexDelta, Store } from '../../src/store/store.ts';
import type { CollectionRecord } from '../../src/store/types.ts';
import { openTestStore, type TestStore } from '../support/test-store.ts';

const index = (fn: string): string => JSON.stringify({ fn: [fn], n: [], email: [], tel: [], nickname: [], org: [], uid: [] });

void describe('SearchTextCache', () => {
  let dir: string;
  let opened: TestStore;
  let store: Store;
  let ownerId: number;
  let homeId: number;
  /** What each searchIndexSince call answered, in order. */
  let reads: SearchIndexDelta[];
  /** The same store, recording what it answers to searchIndexSince (every answer is the store's own). */
  let recording: Store;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'almanac-search-texts-'));
    opened = await openTestStore(dir);
    store = opened.store;
    ownerId = (await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null })).id;
    await store.ensureHomes(ownerId, [{ path: '/addressbooks/alice/', kind: 'addressbook-home', children: [] }]);
    homeId = (await store.getCollection('/addressbooks/alice/'))!.id;
    recording = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'searchIndexSince') {
          return async (id: number, afterSeq: number) => {
            const delta = await target.searchIndexSince(id, afterSeq);
            reads.push(delta);
            return delta;
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  });
  after(async () => {
    await opened.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function book(name: string, count: number): Promise<CollectionRecord> {
    const made = await store.createCollection({ ownerId, parentId: homeId, name, kind: 'addressbook' });
    for (let i = 0; i < count; i++) await put(made, `c${i}.vcf`, `Card ${i}`);
    return (await store.getCollectionById(made.id))!;
  }
  async function put(collection: CollectionRecord, name: string, fn: string): Promise<CollectionRecord> {
    await store.putObject({ collectionId: collection.id, name, body: Buffer.from(fn), contentType: 'text/vcard', metadata: { uid: name, component: 'VCARD', searchIndex: index(fn) } });
    return (await store.getCollectionById(collection.id))!;
  }
  const names = (rows: readonly { name: string }[]): string[] => rows.map((r) => r.name).sort();

  void it('reads a book whole once, then only what changed, and nothing while its position stands', async () => {
    reads = [];
    const cache = new SearchTextCache(1_000_000);
    let b = await book('one', 5);
    const first = (await cache.texts(recording, 'e', b))!;
    assert.deepEqual(reads.map((r) => [r.complete, r.members.length]), [[true, 5]]);
    assert.equal(await cache.texts(recording, 'e', b), first);
    assert.equal(reads.length, 1, 'no read while the position is unchanged');
    b = await put(b, 'c2.vcf', 'Renamed');
    await store.deleteObject(b.id, 'c3.vcf');
    b = (await store.getCollectionById(b.id))!;
    const next = (await cache.texts(recording, 'e', b))!;
    assert.deepEqual(reads.slice(1).map((r) => [r.complete, names(r.members), r.removed]), [[false, ['c2.vcf'], ['c3.vcf']]]);
    assert.equal(next.seq, b.syncSeq);
    assert.deepEqual(next.all().map((r) => [r.name, r.searchIndex]).sort(), [['c0.vcf', index('Card 0')], ['c1.vcf', index('Card 1')], ['c2.vcf', index('Renamed')], ['c4.vcf', index('Card 4')]]);
  });

  void it('reads a cold book once for concurrent queries', async () => {
    reads = [];
    const cache = new SearchTextCache(1_000_000);
    const b = await book('two', 3);
    const all = await Promise.all([cache.texts(recording, 'e', b), cache.texts(recording, 'e', b), cache.texts(recording, 'e', b)]);
    assert.equal(reads.length, 1);
    assert.ok(all.every((t) => t === all[0] && t !== undefined));
  });

  void it('leaves a book larger than the cap to the store, and keeps the most recently used books', async () => {
    reads = [];
    const big = await book('big', 40);
    const small = await book('small', 2);
    const smaller = await book('smaller', 1);
    const cache = new SearchTextCache(600);
    // Read once (this query still uses it), then not held and not read again.
    assert.equal((await cache.texts(recording, 'e', big))?.size, 40);
    assert.equal(await cache.texts(recording, 'e', big), undefined);
    assert.equal(reads.length, 1);
    assert.equal(cache.books, 0);
    await cache.texts(recording, 'e', small);
    await cache.texts(recording, 'e', smaller);
    assert.equal(cache.books, 2);
    assert.ok(cache.chars <= 600);
    // A third book pushes out the least recently used one (small).
    const third = await book('third', 2);
    await cache.texts(recording, 'e', smaller);
    await cache.texts(recording, 'e', third);
    assert.equal(cache.books, 2);
    const before = reads.length;
    await cache.texts(recording, 'e', smaller);
    assert.equal(reads.length, before, 'smaller is still held');
    await cache.texts(recording, 'e', small);
    assert.equal(reads.length, before + 1, 'small was dropped and is read again');
  });

  void it('does not serve a book record of another collection under the same id, nor another epoch', async () => {
    reads = [];
    const cache = new SearchTextCache(1_000_000);
    const b = await book('again', 2);
    const texts = await cache.texts(recording, 'e', b);
    assert.equal(texts?.size, 2);
    // The record as an earlier collection of that id would have had it.
    assert.equal(await cache.texts(recording, 'e', { ...b, createdAt: b.createdAt - 1 }), undefined);
    // Another store epoch (a restore) is another key: read again.
    const other = await cache.texts(recording, 'restored', b);
    assert.notEqual(other, texts);
    assert.equal(other?.size, 2);
  });
});
