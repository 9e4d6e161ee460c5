// addressbook-query narrows its candidates from a per-process copy of each book's search-index texts
// (src/carddav/search-text-cache.ts), brought up to date from the change log. What a client observes
// must not change: every write is in the next query — a PUT or DELETE over HTTP, a MOVE between
// books, a write from another process or node on the same database, a card written after the change
// log was pruned — and a book deleted and made again at the same path is queried as it is now.
// Runs on SQLite, and on PostgreSQL with ALMANAC_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SEARCH_TEXTS } from '../../src/carddav/search-text-cache.ts';
import type { Store } from '../../src/store/store.ts';
import { serializeSearchIndex } from '../../src/vcard/search-index.ts';
import { validateCard } from '../../src/vcard/validate.ts';
import { CARD_NS_DECL, mkaddressbook, report, TEXT_VCARD, vcard } from '../support/dav-fixtures.ts';
import { Harness } from '../support/harness.ts';

const BOOK = '/addressbooks/alice/many/';
const OTHER = '/addressbooks/alice/other/';
/** More than two of the in-memory chunks (256 cards each). */
const COUNT = 600;
const SURNAMES = ['Berg', 'Fox', 'Lindqvist', 'Ångström', 'Okafor'];

function card(n: number, fn: string): string {
  return vcard('4.0', `UID:urn:uuid:card-${n}`, `FN:${fn}`, `EMAIL:card-${n}@example.com`, ...(n % 7 === 0 ? [] : [`NICKNAME:nick${n}`]));
}

function queryBody(propFilter: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><C:addressbook-query ${CARD_NS_DECL}><D:prop><D:getetag/></D:prop><C:filter>${propFilter}</C:filter></C:addressbook-query>`;
}
const fnContains = (text: string): string => `<C:prop-filter name="FN"><C:text-match match-type="contains">${text}</C:text-match></C:prop-filter>`;
const NO_NICKNAME = '<C:prop-filter name="NICKNAME"><C:is-not-defined/></C:prop-filter>';

/** Writes a card the way another node does: straight into the store, with the index its write path computes. */
async function writeAsAnotherNode(store: Store, path: string, name: string, body: string): Promise<void> {
  const book = (await store.getCollection(path))!;
  const { info } = validateCard(body);
  await store.putObject({ collectionId: book.id, name, body: Buffer.from(body), contentType: 'text/vcard', metadata: { uid: info.uid, component: 'VCARD', searchIndex: serializeSearchIndex(info.index) } });
}

void describe('addressbook-query answered from the in-memory search texts', () => {
  let h: Harness;
  let other: Store;
  /** What the book holds: card name → FN, and which cards have a NICKNAME. */
  const names = new Map<string, string>();
  const nicknames = new Set<string>();

  const put = async (n: number, fn: string, path = BOOK): Promise<number> => {
    const response = await h.send('PUT', `${path}card-${n}.vcf`, { headers: TEXT_VCARD, body: card(n, fn) });
    if (path === BOOK) {
      names.set(`card-${n}.vcf`, fn);
      if (n % 7 === 0) nicknames.delete(`card-${n}.vcf`);
      else nicknames.add(`card-${n}.vcf`);
    }
    return response.status;
  };
  const query = async (filter: string, path = BOOK): Promise<string[]> => {
    const result = await report(h, path, queryBody(filter));
    assert.equal(result.status, 207, result.text.slice(0, 300));
    return result.hrefs.map((href) => href.slice(path.length));
  };
  /** The answer worked out from what the book holds. */
  const expected = (needle: string): string[] =>
    [...names].filter(([, fn]) => fn.toLowerCase().includes(needle.toLowerCase())).map(([name]) => name).sort();
  const withoutNickname = (): string[] => [...names.keys()].filter((name) => !nicknames.has(name)).sort();
  const check = async (): Promise<void> => {
    for (const surname of ['berg', 'fox', 'ångström', 'nobody']) assert.deepEqual(await query(fnContains(surname)), expected(surname), surname);
    assert.deepEqual(await query(NO_NICKNAME), withoutNickname());
  };

  before(async () => {
    h = await Harness.start(['alice']);
    other = await h.openAnotherStore();
    // The book is made last, so on SQLite its id is the one a book made after its deletion gets.
    assert.equal((await mkaddressbook(h, OTHER)).status, 201);
    assert.equal((await mkaddressbook(h, BOOK)).status, 201);
    for (let n = 0; n < COUNT; n++) assert.equal(await put(n, `Person ${n} ${SURNAMES[n % SURNAMES.length] ?? ''}`), 201);
  });
  after(async () => {
    await other.close();
    await h.close();
  });

  void it('answers as the cards are, and holds the book in memory once queried', async () => {
    await check();
    assert.ok(SEARCH_TEXTS.books >= 1 && SEARCH_TEXTS.chars > 0, 'the book is held in memory');
    await check();
  });

  void it('sees a PUT, an edit, a DELETE and a MOVE over HTTP in the next query', async () => {
    await check();
    assert.equal(await put(COUNT, 'New Berg'), 201);
    assert.deepEqual(await query(fnContains('new berg')), ['card-600.vcf']);
    assert.equal(await put(0, 'Renamed Fox'), 204);
    assert.deepEqual(await query(fnContains('renamed')), ['card-0.vcf']);
    await check();
    assert.equal((await h.send('DELETE', `${BOOK}card-3.vcf`)).status, 204);
    names.delete('card-3.vcf');
    nicknames.delete('card-3.vcf');
    await check();
    // A card moved to the other book leaves this one's answers and enters the other's.
    assert.equal((await h.send('MOVE', `${BOOK}card-5.vcf`, { headers: { destination: `${OTHER}card-5.vcf` } })).status, 201);
    names.delete('card-5.vcf');
    await check();
    assert.deepEqual(await query(fnContains('berg'), OTHER), ['card-5.vcf']);
    assert.equal((await h.send('MOVE', `${OTHER}card-5.vcf`, { headers: { destination: `${BOOK}card-5.vcf` } })).status, 201);
    names.set('card-5.vcf', 'Person 5 Berg');
    await check();
    assert.deepEqual(await query(fnContains('berg'), OTHER), []);
  });

  void it('sees writes made by another process or node on the same database in the next query', async () => {
    await check();
    await writeAsAnotherNode(other, BOOK, 'card-10.vcf', card(10, 'Elsewhere Ångström'));
    names.set('card-10.vcf', 'Elsewhere Ångström');
    await check();
    await writeAsAnotherNode(other, BOOK, 'card-9000.vcf', card(9000, 'Remote Berg'));
    names.set('card-9000.vcf', 'Remote Berg');
    nicknames.add('card-9000.vcf');
    await check();
    const book = (await other.getCollection(BOOK))!;
    await other.deleteObject(book.id, 'card-9000.vcf');
    names.delete('card-9000.vcf');
    nicknames.delete('card-9000.vcf');
    await check();
  });

  void it('sees every write after the change log was pruned past what it held', async () => {
    await check();
    assert.equal(await put(20, 'Before Prune Berg'), 204);
    assert.equal((await h.send('DELETE', `${BOOK}card-21.vcf`)).status, 204);
    names.delete('card-21.vcf');
    nicknames.delete('card-21.vcf');
    // Everything prunable goes, the deletion of card-21 included: the horizon moves past it.
    await other.pruneChanges(Date.now() + 60_000);
    await writeAsAnotherNode(other, BOOK, 'card-22.vcf', card(22, 'After Prune Fox'));
    names.set('card-22.vcf', 'After Prune Fox');
    await check();
  });

  void it('queries a book deleted and made again at the same path as it is now', async () => {
    await check();
    const old = (await h.store.getCollection(BOOK))!;
    assert.equal((await h.send('DELETE', BOOK)).status, 204);
    assert.equal((await mkaddressbook(h, BOOK)).status, 201);
    names.clear();
    nicknames.clear();
    for (let n = 0; n < 40; n++) assert.equal(await put(n, `Again ${n} ${SURNAMES[(n + 1) % SURNAMES.length] ?? ''}`), 201);
    // Rewritten until its change position is the old one's again (SQLite may even reuse the id).
    const made = (await h.store.getCollection(BOOK))!;
    for (let seq = made.syncSeq; seq < old.syncSeq; seq++) assert.equal(await put(1, `Again 1 ${seq % 2 === 0 ? 'Berg' : 'Fox'}`), 204);
    assert.equal((await h.store.getCollection(BOOK))!.syncSeq, old.syncSeq);
    await check();
  });
});
