// Tests for the XML tree builders and lookups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caldav, clark, dav } from './names.ts';
import { attr, childElements, el, elAttrs, findChild, findChildren, text, textContent } from './tree.ts';

void describe('tree builders', () => {
  void it('el turns strings into text nodes and keeps order', () => {
    const node = el(dav('prop'), 'a', el(dav('getetag')), text('b'));
    assert.equal(node.type, 'element');
    assert.equal(node.name, '{DAV:}prop');
    assert.equal(node.attributes.size, 0);
    assert.deepEqual(node.children, [
      { type: 'text', text: 'a' },
      { type: 'element', name: '{DAV:}getetag', attributes: new Map(), children: [] },
      { type: 'text', text: 'b' },
    ]);
  });

  void it('elAttrs normalizes plain attribute names to {}local and keeps Clark names', () => {
    const node = elAttrs(caldav('comp'), { name: 'VEVENT', '{}x': '1', '{urn:a}b': '2' }, 'c');
    assert.deepEqual([...node.attributes], [
      ['{}name', 'VEVENT'],
      ['{}x', '1'],
      ['{urn:a}b', '2'],
    ]);
    assert.deepEqual(node.children, [{ type: 'text', text: 'c' }]);
  });
});

void describe('tree lookups', () => {
  const tree = el(
    dav('propfind'),
    '\n  ',
    el(dav('prop'), el(dav('getetag')), el(caldav('calendar-data'), 'BEGIN', el(dav('x'), ':VC'), 'AL')),
    el(dav('prop')),
    el(clark('', 'prop')),
    'tail',
  );

  void it('childElements skips text', () => {
    assert.deepEqual(childElements(tree).map((child) => child.name), ['{DAV:}prop', '{DAV:}prop', '{}prop']);
  });

  void it('findChild returns the first match or undefined', () => {
    assert.equal(findChild(tree, dav('prop')), tree.children[1]);
    assert.equal(findChild(tree, clark('', 'prop')), tree.children[3]);
    assert.equal(findChild(tree, dav('getetag')), undefined);
  });

  void it('findChildren returns every direct match', () => {
    assert.deepEqual(findChildren(tree, dav('prop')), [tree.children[1], tree.children[2]]);
    assert.deepEqual(findChildren(tree, caldav('prop')), []);
  });

  void it('textContent concatenates descendant text in document order', () => {
    assert.equal(textContent(tree), '\n  BEGIN:VCALtail');
    assert.equal(textContent(el(dav('empty'))), '');
  });

  void it('textContent copes with very deep constructed trees', () => {
    let deep = el(dav('leaf'), 'x');
    for (let i = 0; i < 50_000; i++) deep = el(dav('n'), deep);
    assert.equal(textContent(deep), 'x');
  });

  void it('attr reads no-namespace attributes by plain name and others by Clark name', () => {
    const node = elAttrs(dav('x'), { a: '1', '{urn:n}a': '2' });
    assert.equal(attr(node, 'a'), '1');
    assert.equal(attr(node, '{}a'), '1');
    assert.equal(attr(node, '{urn:n}a'), '2');
    assert.equal(attr(node, 'b'), undefined);
  });
});
