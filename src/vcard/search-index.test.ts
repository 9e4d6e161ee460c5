// Tests for the stored search index text and its substring narrowing: the narrowing never drops a
// card the exact index check keeps (tricky values: folding that turns one character into several,
// ß, quotes, backslashes, non-ASCII, astral characters), and it does drop cards that cannot match.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Collation, TextMatch } from '../ical/types.ts';
import { indexPrefilter, indexSatisfies, type CardFilter, type CardPropFilter } from './filter.ts';
import { FOLDED_KEY, searchNarrowing, serializeSearchIndex, storedFolded, type SearchNarrowing } from './search-index.ts';
import type { CardIndex } from './validate.ts';

const tm = (text: string, matchType: TextMatch['matchType'] = 'contains', collation: Collation = 'i;unicode-casemap', negate = false): TextMatch =>
  ({ text, matchType, collation, negate });
const prop = (name: string, textMatches: TextMatch[], test: 'anyof' | 'allof' = 'anyof', isNotDefined = false): CardPropFilter =>
  ({ name, test, isNotDefined, textMatches, paramFilters: [] });

const empty: CardIndex = { fn: [], n: [], email: [], tel: [], nickname: [], org: [], uid: [] };
const INDEXES: CardIndex[] = [
  { ...empty, fn: ['Anna Berg'], email: ['anna.berg@example.com'], uid: ['a'] },
  { ...empty, fn: ['Zoë Ångström'], n: ['Ångström;Zoë;;;'], uid: ['z'] },
  { ...empty, fn: ['Straße "Fiﬁ" \\ Weiß'], nickname: ['ﬀoo'], uid: ['s'] },
  { ...empty, fn: ['山田太郎 😀'], org: ['株式会社例'], tel: ['+81 3 1234'], uid: ['y'] },
  { ...empty, fn: ['ＦＵＬＬ width'], email: ['SON@EXAMPLE.ORG'], uid: ['f'] },
  { ...empty, fn: ['Bob'], uid: ['b'] },
];

/** The narrowing as both stores apply it (search-narrowing.ts), on one stored text. */
function keeps(narrowing: SearchNarrowing, text: string): boolean {
  return !text.includes(narrowing.marker) || narrowing.clauses.every((clause) => clause.some((s) => text.includes(s)));
}

const MATCHES: TextMatch[] = [
  tm('berg'), tm('BERG', 'starts-with'), tm('anna berg', 'equals'), tm('zoe'), tm('ZOË'), tm('ångström', 'ends-with'),
  tm('strasse'), tm('fifi'), tm('"fi'), tm('\\'), tm('weiss', 'ends-with'), tm('ffoo', 'equals'), tm('太郎'), tm('😀'),
  tm('full'), tm('son'), tm('Son', 'contains', 'i;octet'), tm('SON@', 'starts-with', 'i;octet'), tm('son', 'contains', 'i;ascii-casemap'),
  tm('bob', 'equals', 'i;unicode-casemap', true), tm(''), tm('nobody'),
];

const FIELDS = ['FN', 'N', 'EMAIL', 'TEL', 'NICKNAME', 'ORG', 'UID'];

function filters(): CardFilter[] {
  const out: CardFilter[] = [];
  for (const [i, match] of MATCHES.entries()) {
    const other = MATCHES[(i + 5) % MATCHES.length] as TextMatch;
    for (const field of FIELDS) {
      out.push({ test: 'anyof', propFilters: [prop(field, [match])] });
      out.push({ test: 'anyof', propFilters: [prop(field, [match, other])] });
      out.push({ test: 'anyof', propFilters: [prop(field, [match, other], 'allof')] });
      out.push({ test: 'allof', propFilters: [prop(field, [match]), prop('EMAIL', [other])] });
      out.push({ test: 'anyof', propFilters: [prop(field, [match]), prop('NICKNAME', [], 'anyof', true)] });
    }
  }
  return out;
}

void describe('search index narrowing', () => {
  void it('stores the folded values beside the values, under a key naming the Unicode version', () => {
    const text = serializeSearchIndex(INDEXES[2] as CardIndex);
    const parsed = JSON.parse(text) as CardIndex;
    assert.deepEqual(parsed.fn, ['Straße "Fiﬁ" \\ Weiß']);
    assert.deepEqual(storedFolded(parsed)?.fn, ['STRASSE "FIFI" \\ WEISS']);
    assert.ok(FOLDED_KEY.includes(process.versions.unicode ?? 'unknown'));
  });

  void it('never drops a card the exact index check keeps, for any filter', () => {
    const texts = INDEXES.map(serializeSearchIndex);
    let narrowed = 0;
    for (const filter of filters()) {
      const prefilter = indexPrefilter(filter);
      if (prefilter === null) continue;
      const narrowing = searchNarrowing(prefilter);
      if (narrowing === null) continue;
      narrowed++;
      for (const [i, index] of INDEXES.entries()) {
        if (indexSatisfies(index, prefilter)) assert.ok(keeps(narrowing, texts[i] as string), `${JSON.stringify(filter)} keeps ${texts[i]}`);
      }
    }
    assert.ok(narrowed > 100);
  });

  void it('drops cards that cannot match, and keeps cards stored without folded values', () => {
    const prefilter = indexPrefilter({ test: 'anyof', propFilters: [prop('FN', [tm('BERG')])] });
    assert.ok(prefilter);
    const narrowing = searchNarrowing(prefilter);
    assert.ok(narrowing);
    const kept = INDEXES.filter((index) => keeps(narrowing, serializeSearchIndex(index))).map((index) => index.uid[0]);
    assert.deepEqual(kept, ['a']);
    // Written by a release without folded values (or another Unicode version): always a candidate.
    assert.ok(keeps(narrowing, JSON.stringify(INDEXES[5])));
  });

  void it('narrows nothing it cannot: negations, i;ascii-casemap, empty text, is-not-defined under anyof', () => {
    const narrowingOf = (filter: CardFilter): SearchNarrowing | null => {
      const prefilter = indexPrefilter(filter);
      return prefilter === null ? null : searchNarrowing(prefilter);
    };
    assert.equal(narrowingOf({ test: 'anyof', propFilters: [prop('FN', [tm('bob', 'contains', 'i;unicode-casemap', true)])] }), null);
    assert.equal(narrowingOf({ test: 'anyof', propFilters: [prop('FN', [tm('bob', 'contains', 'i;ascii-casemap')])] }), null);
    assert.equal(narrowingOf({ test: 'anyof', propFilters: [prop('FN', [tm('')])] }), null);
    assert.equal(narrowingOf({ test: 'anyof', propFilters: [prop('FN', [tm('bob')]), prop('EMAIL', [], 'anyof', true)] }), null);
    assert.deepEqual(narrowingOf({ test: 'allof', propFilters: [prop('FN', [tm('bob')]), prop('EMAIL', [], 'anyof', true)] })?.clauses, [['BOB']]);
    assert.deepEqual(narrowingOf({ test: 'anyof', propFilters: [prop('FN', [tm('a"b', 'equals')]), prop('EMAIL', [tm('x', 'starts-with', 'i;octet')])] })?.clauses,
      [['"A\\"B"', '"x']]);
  });
});
