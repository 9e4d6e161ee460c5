// Tests for addressbook-query filters (RFC 6352 §10.5) and the CardIndex prefilter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Collation, TextMatch } from '../ical/types.ts';
import { indexPrefilter, indexSatisfies, matchesCardFilter } from './filter.ts';
import type { CardFilter, CardParamFilter, CardPropFilter } from './filter.ts';
import { card, corpusFiles, corpusText, withUid } from './support.test.ts';
import { validateCard } from './validate.ts';

const tm = (text: string, options: { matchType?: TextMatch['matchType']; collation?: Collation; negate?: boolean } = {}): TextMatch => ({
  text, matchType: options.matchType ?? 'contains', collation: options.collation ?? 'i;unicode-casemap', negate: options.negate ?? false,
});

const prop = (name: string, options: Partial<Omit<CardPropFilter, 'name'>> = {}): CardPropFilter => ({
  name, test: options.test ?? 'anyof', isNotDefined: options.isNotDefined ?? false,
  textMatches: options.textMatches ?? [], paramFilters: options.paramFilters ?? [],
});

const param = (name: string, textMatch?: TextMatch, isNotDefined = false): CardParamFilter =>
  (textMatch === undefined ? { name, isNotDefined } : { name, isNotDefined, textMatch });

const anyof = (...propFilters: CardPropFilter[]): CardFilter => ({ test: 'anyof', propFilters });
const allof = (...propFilters: CardPropFilter[]): CardFilter => ({ test: 'allof', propFilters });

const CARDS = [
  card('3.0', 'UID:john', 'FN:John Doe', 'N:Doe;John;;;', 'NICKNAME:Johnny,JD', 'EMAIL;TYPE=INTERNET,HOME:john@home.example',
    'item1.EMAIL;TYPE=INTERNET,WORK:john.doe@work.example', 'item1.X-ABLabel:Office', 'TEL;TYPE=CELL:+1 555 0100',
    'ORG:ACME\\, Inc.;Sales', 'NOTE:Met at Straße 5'),
  card('4.0', 'UID:anna', 'FN:Änna Müller', 'N:Müller;Änna;;;', 'EMAIL;TYPE=work;PREF=1:anna@example.com',
    'TEL;VALUE=uri;TYPE=cell:tel:+49-30-1234'),
  card('4.0', 'UID:grp', 'FN:Team', 'KIND:group', 'MEMBER:urn:uuid:john'),
].map((text) => validateCard(text));

/** The UIDs of the cards the filter matches, in CARDS order. */
function matching(filter: CardFilter): string[] {
  return CARDS.filter(({ card: c }) => matchesCardFilter(c, filter)).map(({ info }) => info.uid);
}

void describe('matchesCardFilter', () => {
  void it('matches every card with an empty filter (anyof or allof)', () => {
    assert.deepEqual(matching(anyof()), ['john', 'anna', 'grp']);
    assert.deepEqual(matching(allof()), ['john', 'anna', 'grp']);
  });

  void it('applies each match type (contains is the default)', () => {
    assert.deepEqual(matching(anyof(prop('FN', { textMatches: [tm('doe')] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('FN', { textMatches: [tm('john doe', { matchType: 'equals' })] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('FN', { textMatches: [tm('john', { matchType: 'equals' })] }))), []);
    assert.deepEqual(matching(anyof(prop('EMAIL', { textMatches: [tm('john.', { matchType: 'starts-with' })] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('EMAIL', { textMatches: [tm('@example.com', { matchType: 'ends-with' })] }))), ['anna']);
  });

  void it('applies the collation', () => {
    assert.deepEqual(matching(anyof(prop('FN', { textMatches: [tm('äNNA')] }))), ['anna']);
    assert.deepEqual(matching(anyof(prop('FN', { textMatches: [tm('äNNA', { collation: 'i;ascii-casemap' })] }))), []);
    assert.deepEqual(matching(anyof(prop('FN', { textMatches: [tm('ÄNNA', { collation: 'i;ascii-casemap' })] }))), ['anna']);
    assert.deepEqual(matching(anyof(prop('FN', { textMatches: [tm('john doe', { collation: 'i;octet', matchType: 'equals' })] }))), []);
    assert.deepEqual(matching(anyof(prop('FN', { textMatches: [tm('John Doe', { collation: 'i;octet', matchType: 'equals' })] }))), ['john']);
  });

  void it('negates per property instance: one EMAIL without "work" is enough', () => {
    assert.deepEqual(matching(anyof(prop('EMAIL', { textMatches: [tm('work', { negate: true })] }))), ['john', 'anna']);
    assert.deepEqual(matching(anyof(prop('EMAIL', { textMatches: [tm('example', { negate: true })] }))), []);
  });

  void it('compares structured and list values as unescaped text joined with ; and ,', () => {
    assert.deepEqual(matching(anyof(prop('N', { textMatches: [tm('doe;john;;;', { matchType: 'equals' })] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('ORG', { textMatches: [tm('ACME, Inc.;Sales', { matchType: 'equals' })] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('NICKNAME', { textMatches: [tm('johnny,jd', { matchType: 'equals' })] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('TEL', { textMatches: [tm('tel:+49', { matchType: 'starts-with' })] }))), ['anna']);
    assert.deepEqual(matching(anyof(prop('NOTE', { textMatches: [tm('STRASSE')] }))), ['john']);
  });

  void it('handles is-not-defined and bare prop-filters (existence)', () => {
    assert.deepEqual(matching(anyof(prop('NICKNAME', { isNotDefined: true }))), ['anna', 'grp']);
    assert.deepEqual(matching(anyof(prop('MEMBER'))), ['grp']);
    assert.deepEqual(matching(anyof(prop('member'))), ['grp']);
  });

  void it('combines prop-filters with anyof and allof', () => {
    const team = prop('FN', { textMatches: [tm('team')] });
    const exampleCom = prop('EMAIL', { textMatches: [tm('example.com', { matchType: 'ends-with' })] });
    assert.deepEqual(matching(anyof(team, exampleCom)), ['anna', 'grp']);
    assert.deepEqual(matching(allof(team, exampleCom)), []);
    assert.deepEqual(matching(allof(prop('FN', { textMatches: [tm('john')] }), prop('TEL', { textMatches: [tm('555')] }))), ['john']);
  });

  void it('combines text-matches inside a prop-filter per instance', () => {
    const both = (a: string, b: string, test: 'anyof' | 'allof'): CardFilter => anyof(prop('EMAIL', { test, textMatches: [tm(a), tm(b)] }));
    assert.deepEqual(matching(both('john', 'work', 'allof')), ['john']);
    assert.deepEqual(matching(both('home', 'work', 'allof')), []);
    assert.deepEqual(matching(both('anna', 'home', 'anyof')), ['john', 'anna']);
  });

  void it('filters on TYPE and other parameters, 3.0 and 4.0 alike', () => {
    const type = (text: string, negate = false): CardFilter =>
      anyof(prop('EMAIL', { paramFilters: [param('TYPE', tm(text, { matchType: 'equals', negate }))] }));
    assert.deepEqual(matching(type('work')), ['john', 'anna']);
    assert.deepEqual(matching(type('home')), ['john']);
    assert.deepEqual(matching(type('work', true)), ['john']);
    assert.deepEqual(matching(anyof(prop('EMAIL', { paramFilters: [param('PREF', undefined, true)] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('EMAIL', { paramFilters: [param('pref')] }))), ['anna']);
    assert.deepEqual(matching(anyof(prop('TEL', { paramFilters: [param('VALUE')] }))), []);
    assert.deepEqual(matching(anyof(prop('TEL', { paramFilters: [param('GROUP', undefined, true)] }))), ['john', 'anna']);
  });

  void it('combines text-matches and param-filters with the prop-filter test', () => {
    const filter = (text: string, test: 'anyof' | 'allof'): CardFilter =>
      anyof(prop('EMAIL', { test, textMatches: [tm(text)], paramFilters: [param('TYPE', tm('home', { matchType: 'equals' }))] }));
    assert.deepEqual(matching(filter('john', 'allof')), ['john']);
    assert.deepEqual(matching(filter('doe', 'allof')), []);
    assert.deepEqual(matching(filter('anna', 'anyof')), ['john', 'anna']);
  });

  void it('matches grouped properties by name, or by group when the filter names one', () => {
    assert.deepEqual(matching(anyof(prop('EMAIL', { textMatches: [tm('work.example')] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('ITEM1.email', { textMatches: [tm('work')] }))), ['john']);
    assert.deepEqual(matching(anyof(prop('item2.EMAIL'))), []);
    assert.deepEqual(matching(anyof(prop('X-ABLABEL', { textMatches: [tm('office', { matchType: 'equals' })] }))), ['john']);
  });
});

void describe('indexPrefilter', () => {
  void it('gives no prefilter when every card is a candidate', () => {
    assert.equal(indexPrefilter(anyof()), null);
    assert.equal(indexPrefilter(anyof(prop('NOTE', { textMatches: [tm('x')] }))), null);
    assert.equal(indexPrefilter(anyof(prop('FN', { textMatches: [tm('x')] }), prop('NOTE'))), null);
    assert.equal(indexPrefilter(anyof(prop('item1.EMAIL', { isNotDefined: true }))), null);
  });

  void it('describes exact conditions for filters on indexed properties only', () => {
    const m = tm('doe');
    assert.deepEqual(indexPrefilter(anyof(prop('FN', { textMatches: [m] }), prop('NICKNAME', { isNotDefined: true }))), {
      test: 'anyof',
      conditions: [
        { field: 'fn', isNotDefined: false, test: 'anyof', textMatches: [m] },
        { field: 'nickname', isNotDefined: true, test: 'anyof', textMatches: [] },
      ],
      exact: true,
    });
  });

  void it('keeps only necessary conditions otherwise', () => {
    const m = tm('john');
    const type = param('TYPE', tm('home'));
    assert.deepEqual(indexPrefilter(allof(prop('EMAIL', { textMatches: [m], paramFilters: [type] }), prop('NOTE'))), {
      test: 'allof', conditions: [{ field: 'email', isNotDefined: false, test: 'anyof', textMatches: [] }], exact: false,
    });
    assert.deepEqual(indexPrefilter(anyof(prop('EMAIL', { test: 'allof', textMatches: [m], paramFilters: [type] }))), {
      test: 'anyof', conditions: [{ field: 'email', isNotDefined: false, test: 'allof', textMatches: [m] }], exact: false,
    });
    assert.deepEqual(indexPrefilter(anyof(prop('item1.EMAIL', { textMatches: [m] }))), {
      test: 'anyof', conditions: [{ field: 'email', isNotDefined: false, test: 'anyof', textMatches: [m] }], exact: false,
    });
  });

  void it('is sound on the corpus: a card the filter matches always passes, and exact prefilters agree', () => {
    const cards = [...CARDS, ...corpusFiles().flatMap((file) => {
      try {
        return [validateCard(withUid(corpusText(file), `urn:uuid:${file}`))];
      } catch {
        return [];
      }
    })];
    assert.equal(cards.length, 3 + 15);
    const filters: CardFilter[] = [
      anyof(prop('FN', { textMatches: [tm('john')] })),
      anyof(prop('EMAIL', { textMatches: [tm('ibm', { negate: true })] })),
      allof(prop('TEL', { textMatches: [tm('905', { matchType: 'starts-with' })] }), prop('NICKNAME')),
      anyof(prop('N', { textMatches: [tm('doe;john', { matchType: 'starts-with' })] }), prop('ORG', { textMatches: [tm('ibm')] })),
      anyof(prop('EMAIL', { paramFilters: [param('TYPE', tm('work', { matchType: 'equals' }))] })),
      allof(prop('EMAIL', { test: 'allof', textMatches: [tm('john'), tm('ibm')], paramFilters: [param('TYPE', tm('pref'))] }), prop('NOTE')),
      anyof(prop('NICKNAME', { isNotDefined: true }), prop('UID', { textMatches: [tm('urn:uuid:', { matchType: 'starts-with' })] })),
      anyof(prop('item1.EMAIL', { textMatches: [tm('@')] })),
    ];
    let matched = 0;
    let pruned = 0;
    for (const filter of filters) {
      const pre = indexPrefilter(filter);
      assert.notEqual(pre, null);
      if (pre === null) continue;
      for (const { card: c, info } of cards) {
        const full = matchesCardFilter(c, filter);
        const passes = indexSatisfies(info.index, pre);
        if (full) {
          matched++;
          assert.ok(passes, `${info.uid} matches but the prefilter drops it`);
        }
        if (!passes) pruned++;
        if (pre.exact) assert.equal(passes, full, info.uid);
      }
    }
    // 18 cards × 8 filters: 48 matches, all kept; 78 of the 96 non-matches pruned by the index alone.
    assert.equal(matched, 48);
    assert.equal(pruned, 78);
  });
});
