// Tests for RFC 4790 collation text matching.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSupportedCollation, textMatches } from './text-match.ts';
import type { Collation, TextMatch } from './types.ts';

function m(text: string, collation: Collation, matchType: TextMatch['matchType'] = 'contains', negate = false): TextMatch {
  return { text, collation, matchType, negate };
}

void describe('isSupportedCollation', () => {
  void it('accepts the three collations and nothing else', () => {
    assert.equal(isSupportedCollation('i;octet'), true);
    assert.equal(isSupportedCollation('i;ascii-casemap'), true);
    assert.equal(isSupportedCollation('i;unicode-casemap'), true);
    assert.equal(isSupportedCollation('i;ascii-numeric'), false);
    assert.equal(isSupportedCollation('I;OCTET'), false);
    assert.equal(isSupportedCollation(''), false);
  });
});

void describe('textMatches: i;octet', () => {
  void it('is case-sensitive', () => {
    assert.equal(textMatches('Team Meeting', m('Meeting', 'i;octet')), true);
    assert.equal(textMatches('Team Meeting', m('meeting', 'i;octet')), false);
  });
  void it('does not unify composed and decomposed forms', () => {
    assert.equal(textMatches('caf\u00e9', m('cafe\u0301', 'i;octet', 'equals')), false);
    assert.equal(textMatches('caf\u00e9', m('caf\u00e9', 'i;octet', 'equals')), true);
  });
});

void describe('textMatches: i;ascii-casemap', () => {
  void it('folds ASCII letters only', () => {
    assert.equal(textMatches('Team MEETING', m('meeting', 'i;ascii-casemap')), true);
    assert.equal(textMatches('\u00c9T\u00c9', m('\u00e9t\u00e9', 'i;ascii-casemap', 'equals')), false);
    assert.equal(textMatches('\u00e9T\u00e9', m('\u00e9t\u00e9', 'i;ascii-casemap', 'equals')), true);
  });
});

void describe('textMatches: i;unicode-casemap', () => {
  void it('folds non-ASCII letters', () => {
    assert.equal(textMatches('\u00c9T\u00c9 \u00e0 PARIS', m('\u00e9t\u00e9', 'i;unicode-casemap', 'starts-with')), true);
    assert.equal(textMatches('\u0394\u0399\u0391\u039b\u039f\u0393\u039f\u03a3', m('\u03b4\u03b9\u03b1\u03bb\u03bf\u03b3\u03bf\u03c2', 'i;unicode-casemap', 'equals')), true);
  });
  void it('unifies composed and decomposed forms and compatibility characters', () => {
    assert.equal(textMatches('CAF\u00c9', m('cafe\u0301', 'i;unicode-casemap', 'equals')), true);
    assert.equal(textMatches('\ufb01le', m('FILE', 'i;unicode-casemap', 'equals')), true);
  });
  void it('keeps different letters apart', () => {
    assert.equal(textMatches('cafe', m('caf\u00e9', 'i;unicode-casemap', 'equals')), false);
  });
});

void describe('textMatches: match types and negate', () => {
  void it('applies each match type', () => {
    assert.equal(textMatches('alpha beta', m('alpha', 'i;octet', 'equals')), false);
    assert.equal(textMatches('alpha', m('ALPHA', 'i;ascii-casemap', 'equals')), true);
    assert.equal(textMatches('alpha beta', m('ALPHA', 'i;ascii-casemap', 'starts-with')), true);
    assert.equal(textMatches('alpha beta', m('BETA', 'i;ascii-casemap', 'starts-with')), false);
    assert.equal(textMatches('alpha beta', m('BETA', 'i;ascii-casemap', 'ends-with')), true);
    assert.equal(textMatches('alpha beta', m('ALPHA', 'i;ascii-casemap', 'ends-with')), false);
    assert.equal(textMatches('alpha beta', m('HA BE', 'i;ascii-casemap', 'contains')), true);
  });
  void it('an empty text is contained in everything', () => {
    assert.equal(textMatches('', m('', 'i;octet')), true);
    assert.equal(textMatches('x', m('', 'i;octet', 'equals')), false);
  });
  void it('negate inverts the result', () => {
    assert.equal(textMatches('Team Meeting', m('meeting', 'i;ascii-casemap', 'contains', true)), false);
    assert.equal(textMatches('Team Meeting', m('lunch', 'i;ascii-casemap', 'contains', true)), true);
    assert.equal(textMatches('Team Meeting', m('meeting', 'i;octet', 'contains', true)), true);
  });
});
