// Tests for the parsed search-index cache of address books: reuse only for identical text, forgetting removed cards, folding per collation, the size bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CardIndexCache } from './index-cache.ts';

const EMPTY = { fn: [], n: [], email: [], tel: [], nickname: [], org: [], uid: [] };
const row = (name: string, fn: string): { name: string; searchIndex: string } => ({ name, searchIndex: JSON.stringify({ ...EMPTY, fn: [fn] }) });

void describe('CardIndexCache', () => {
  void it('reuses a parse while the stored text is unchanged and reparses when it changes', () => {
    const cache = new CardIndexCache(100);
    const first = cache.cards(1, [row('a.vcf', 'Ann'), row('b.vcf', 'Bob')]);
    const again = cache.cards(1, [row('a.vcf', 'Ann'), row('b.vcf', 'Bob')]);
    assert.equal(again[0]?.index, first[0]?.index);
    const changed = cache.cards(1, [row('a.vcf', 'Anna'), row('b.vcf', 'Bob')]);
    assert.deepEqual(changed[0]?.index.fn, ['Anna']);
    assert.equal(changed[1]?.index, first[1]?.index);
  });

  void it('forgets cards no longer listed and skips cards without an index', () => {
    const cache = new CardIndexCache(100);
    cache.cards(1, [row('a.vcf', 'Ann'), row('b.vcf', 'Bob')]);
    const now = cache.cards(1, [row('b.vcf', 'Bob'), { name: 'c.vcf', searchIndex: null }]);
    assert.deepEqual(now.map((card) => card.name), ['b.vcf']);
    assert.equal(cache.size, 1);
  });

  void it('folds values per collation, once', () => {
    const cache = new CardIndexCache(100);
    const [card] = cache.cards(1, [row('z.vcf', 'Zoë')]);
    assert.ok(card);
    assert.deepEqual(card.folded('fn', 'i;unicode-casemap'), ['ZOE\u0308']);
    assert.deepEqual(card.folded('fn', 'i;ascii-casemap'), ['ZOë']);
    assert.equal(card.folded('fn', 'i;octet'), card.folded('fn', 'i;octet'));
  });

  void it('keeps at most the given number of cards, dropping the least recently queried book', () => {
    const cache = new CardIndexCache(3);
    cache.cards(1, [row('a.vcf', 'A'), row('b.vcf', 'B')]);
    cache.cards(2, [row('c.vcf', 'C')]);
    assert.equal(cache.size, 3);
    cache.cards(3, [row('d.vcf', 'D')]);
    assert.equal(cache.size, 2);
    // A book larger than the whole budget is answered but not kept.
    assert.equal(cache.cards(4, [row('e.vcf', 'E'), row('f.vcf', 'F'), row('g.vcf', 'G'), row('h.vcf', 'H')]).length, 4);
    assert.ok(cache.size <= 3);
  });
});
