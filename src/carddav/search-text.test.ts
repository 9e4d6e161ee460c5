// Tests for the in-memory narrowing of an address book's search-index texts: it keeps exactly the
// cards the stores' SQL narrowing keeps (substring tests on each text, texts without the marker always
// kept, cards without an index never), across chunk boundaries and after writes and deletions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SearchIndexDelta } from '../store/store.ts';
import type { SearchNarrowing } from '../store/types.ts';
import { BookSearchText } from './search-text.ts';

/** The narrowing as both stores apply it (src/store/search-narrowing.ts), on one stored text. */
function keeps(narrowing: SearchNarrowing, text: string | null): boolean {
  if (text === null) return false;
  return !text.includes(narrowing.marker) || narrowing.clauses.every((clause) => clause.some((s) => text.includes(s)));
}

const MARKER = '"m:":';

function complete(rows: Map<string, string | null>, seq = 1): SearchIndexDelta {
  return { currentSeq: seq, createdAt: 0, complete: true, members: [...rows].map(([name, searchIndex]) => ({ name, searchIndex })), removed: [] };
}

function kept(texts: BookSearchText, narrowing: SearchNarrowing): string[] {
  return texts.narrow(narrowing).map((row) => row.name).sort();
}

function expected(rows: Map<string, string | null>, narrowing: SearchNarrowing): string[] {
  return [...rows].filter(([, text]) => keeps(narrowing, text)).map(([name]) => name).sort();
}

/** A small deterministic generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const WORDS = ['ANNA', 'BERG', 'anna', 'berg', 'FOX', 'SON', '"SON', 'SON"', 'ß', 'Ü', '😀', '\\"', 'é', 'x'];

function text(next: () => number): string | null {
  if (next() < 0.05) return null;
  const words = Array.from({ length: 1 + Math.floor(next() * 4) }, () => WORDS[Math.floor(next() * WORDS.length)] ?? '');
  const value = JSON.stringify(words.join(next() < 0.5 ? ' ' : ''));
  // Some texts lack the marker, as cards written by an older release do.
  return next() < 0.1 ? `{"fn":[${value}]}` : `{${MARKER}{"fn":[${value}]},"fn":[${value}]}`;
}

function narrowings(next: () => number): SearchNarrowing[] {
  const term = (): string => {
    const word = WORDS[Math.floor(next() * WORDS.length)] ?? '';
    const r = next();
    return r < 0.25 ? `"${word}"` : r < 0.5 ? `"${word}` : r < 0.75 ? `${word}"` : word;
  };
  return [
    { marker: MARKER, clauses: [] },
    { marker: MARKER, clauses: [[]] },
    { marker: MARKER, clauses: [['']] },
    { marker: '', clauses: [[term()]] },
    { marker: 'absent marker', clauses: [[term()]] },
    ...Array.from({ length: 40 }, () => ({
      marker: MARKER,
      clauses: Array.from({ length: 1 + Math.floor(next() * 2) }, () => Array.from({ length: 1 + Math.floor(next() * 2) }, term)),
    })),
  ];
}

void describe('BookSearchText', () => {
  void it('keeps exactly the cards the SQL narrowing keeps, over several chunks', () => {
    const next = random(7);
    const rows = new Map<string, string | null>();
    for (let i = 0; i < 700; i++) rows.set(`card-${i}.vcf`, text(next));
    const texts = new BookSearchText(complete(rows));
    assert.equal(texts.size, [...rows.values()].filter((t) => t !== null).length);
    for (const narrowing of narrowings(next)) assert.deepEqual(kept(texts, narrowing), expected(rows, narrowing), JSON.stringify(narrowing));
  });

  void it('never counts a match that runs from one text into the next', () => {
    const rows = new Map<string, string | null>([['a', `${MARKER}ab`], ['b', `${MARKER}cd`], ['c', `${MARKER}b`]]);
    const texts = new BookSearchText(complete(rows));
    assert.deepEqual(kept(texts, { marker: MARKER, clauses: [['bc']] }), []);
    assert.deepEqual(kept(texts, { marker: MARKER, clauses: [['b\u0000']] }), []);
    assert.deepEqual(kept(texts, { marker: MARKER, clauses: [['b']] }), ['a', 'c']);
    // A marker spanning two texts marks neither: both stay candidates.
    assert.deepEqual(kept(texts, { marker: 'ab\u0000"m', clauses: [['zz']] }), ['a', 'b', 'c']);
  });

  void it('follows writes, deletions and cards losing their index, matching a fresh read each time', () => {
    const next = random(11);
    const rows = new Map<string, string | null>();
    for (let i = 0; i < 600; i++) rows.set(`card-${i}.vcf`, text(next));
    const texts = new BookSearchText(complete(rows));
    for (let round = 2; round < 30; round++) {
      const members: { name: string; searchIndex: string | null }[] = [];
      const removed: string[] = [];
      for (let n = 0; n < 1 + Math.floor(next() * 60); n++) {
        const name = `card-${Math.floor(next() * 800)}.vcf`;
        if (next() < 0.4) {
          rows.delete(name);
          removed.push(name);
        } else {
          const value = text(next);
          rows.set(name, value);
          members.push({ name, searchIndex: value });
        }
      }
      // The store names each member once, with its value now.
      const last = new Map(members.map((m) => [m.name, m.searchIndex]));
      const delta: SearchIndexDelta = {
        currentSeq: round,
        createdAt: 0,
        complete: false,
        members: [...last].filter(([name]) => rows.has(name)).map(([name]) => ({ name, searchIndex: rows.get(name) ?? null })),
        removed: [...new Set(removed)].filter((name) => !rows.has(name)),
      };
      texts.apply(delta);
      assert.equal(texts.seq, round);
      const fresh = new BookSearchText(complete(rows, round));
      assert.equal(texts.size, fresh.size);
      assert.equal(texts.chars, fresh.chars);
      assert.deepEqual(texts.all().map((r) => [r.name, r.searchIndex]).sort(), fresh.all().map((r) => [r.name, r.searchIndex]).sort());
      for (const narrowing of narrowings(next).slice(0, 12)) assert.deepEqual(kept(texts, narrowing), expected(rows, narrowing), `round ${round}: ${JSON.stringify(narrowing)}`);
    }
  });

  void it('ignores changes older than what it holds', () => {
    const texts = new BookSearchText(complete(new Map([['a', `${MARKER}old`]]), 5));
    texts.apply({ currentSeq: 4, createdAt: 0, complete: false, members: [{ name: 'a', searchIndex: `${MARKER}older` }], removed: [] });
    assert.deepEqual(texts.all(), [{ name: 'a', searchIndex: `${MARKER}old` }]);
    assert.equal(texts.seq, 5);
  });
});
