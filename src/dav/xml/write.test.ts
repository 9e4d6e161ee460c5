// Tests for the XML writer: prefixes, escaping, and parse/serialize round-trips.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NS, caldav, carddav, clark, cs, dav, ical } from './names.ts';
import type { ClarkName } from './names.ts';
import { parseXml } from './parse.ts';
import { el, elAttrs } from './tree.ts';
import type { XmlElement, XmlNode } from './tree.ts';
import { escapeUtf8Text } from './escape.ts';
import { escapeAttribute, escapeText, serializeElement, xmlDocument } from './write.ts';

void describe('escaping', () => {
  void it('escapes markup characters and CR in text', () => {
    assert.equal(escapeText('a&b<c>d"e\'f\rg\nh\ti'), 'a&amp;b&lt;c&gt;d"e\'f&#13;g\nh\ti');
    assert.equal(escapeText(']]>'), ']]&gt;');
  });

  void it('escapes markup characters and TAB/LF/CR in attributes', () => {
    assert.equal(escapeAttribute('a&b<c>d"e\'f\rg\nh\ti'), 'a&amp;b&lt;c&gt;d&quot;e\'f&#13;g&#10;h&#9;i');
  });

  void it('returns clean strings unchanged, non-BMP included', () => {
    const clean = 'plain \u00e9 \u{1F600} \u0085 \u2028';
    assert.equal(escapeText(clean), clean);
    assert.equal(escapeAttribute(clean), clean);
  });

  void it('replaces characters XML cannot carry with U+FFFD', () => {
    assert.equal(escapeText('a\u0000b\u0008c\u000Bd\u001Fe\uFFFEf'), 'a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf');
    assert.equal(escapeAttribute('x\uD800y\uDC00'), 'x\uFFFDy\uFFFD');
    assert.equal(escapeText('\uD83D\uDE00'), '\u{1F600}');
  });

  void it('escapes every CR of CRLF text, alone or next to other characters to escape', () => {
    const card = 'BEGIN:VCARD\r\nFN:Ann\r\nEND:VCARD\r\n';
    assert.equal(escapeText(card), 'BEGIN:VCARD&#13;\nFN:Ann&#13;\nEND:VCARD&#13;\n');
    assert.equal(escapeText('NOTE:a & b\r\nX:\uD800\r\n'), 'NOTE:a &amp; b&#13;\nX:\uFFFD&#13;\n');
    assert.equal(escapeText('\r\uD800\r'), '&#13;\uFFFD&#13;');
  });
});

void describe('serializeElement prefixes', () => {
  void it('uses the fixed prefixes and declares everything on the root', () => {
    const tree = el(dav('prop'), el(caldav('a')), el(carddav('b')), el(cs('c')), el(ical('d'), el(dav('e'))));
    assert.equal(
      serializeElement(tree),
      '<d:prop xmlns:d="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav" xmlns:card="urn:ietf:params:xml:ns:carddav"' +
        ' xmlns:cs="http://calendarserver.org/ns/" xmlns:ical="http://apple.com/ns/ical/">' +
        '<cal:a/><card:b/><cs:c/><ical:d><d:e/></ical:d></d:prop>',
    );
  });

  void it('generates unique prefixes for other namespaces, attribute namespaces included', () => {
    const tree = el(
      clark('urn:one', 'r'),
      elAttrs(clark('urn:two', 'x'), { '{urn:three}a': '1', plain: '2', '{urn:one}b': '3' }),
      el(clark('urn:two', 'y'), el(clark('urn:four', 'z'))),
    );
    assert.equal(
      serializeElement(tree),
      '<x0:r xmlns:x0="urn:one" xmlns:x1="urn:two" xmlns:x2="urn:three" xmlns:x3="urn:four">' +
        '<x1:x x2:a="1" plain="2" x0:b="3"/><x1:y><x3:z/></x1:y></x0:r>',
    );
  });

  void it('writes no-namespace names unprefixed, with nothing to declare', () => {
    assert.equal(serializeElement(el(clark('', 'a'), el(dav('b'), el(clark('', 'c'))))), '<a xmlns:d="DAV:"><d:b><c/></d:b></a>');
  });

  void it('uses xml: without declaring it', () => {
    const tree = elAttrs(dav('x'), { '{http://www.w3.org/XML/1998/namespace}lang': 'en' });
    assert.equal(serializeElement(tree), '<d:x xml:lang="en" xmlns:d="DAV:"/>');
  });

  void it('reuses prefixes already in scope and avoids clashing with them', () => {
    const inScope = new Map([
      [NS.DAV, 'D'],
      ['urn:taken', 'x0'],
      ['urn:squatter', 'cal'],
    ]);
    const tree = el(dav('a'), el(clark('urn:taken', 'b')), el(clark('urn:new', 'c')), el(caldav('d')));
    assert.equal(
      serializeElement(tree, inScope),
      '<D:a xmlns:x1="urn:new" xmlns:x2="urn:ietf:params:xml:ns:caldav"><x0:b/><x1:c/><x2:d/></D:a>',
    );
  });

  void it('undoes an inherited default namespace for unqualified names', () => {
    const inScope = new Map([['urn:default', '']]);
    assert.equal(serializeElement(el(dav('a'), el(clark('', 'b'))), inScope), '<d:a xmlns="" xmlns:d="DAV:"><b/></d:a>');
    assert.equal(serializeElement(el(clark('urn:default', 'a')), inScope), '<x0:a xmlns:x0="urn:default"/>');
  });

  void it('writes empty elements self-closed and escapes text and attributes', () => {
    const tree = elAttrs(dav('a'), { q: '"<&>"\n' }, el(dav('empty')), 'x < y & "z"\r\n');
    assert.equal(
      serializeElement(tree),
      '<d:a q="&quot;&lt;&amp;&gt;&quot;&#10;" xmlns:d="DAV:"><d:empty/>x &lt; y &amp; "z"&#13;\n</d:a>',
    );
  });

  void it('xmlDocument prepends the XML declaration', () => {
    assert.equal(xmlDocument(el(dav('x'))), '<?xml version="1.0" encoding="utf-8"?>\n<d:x xmlns:d="DAV:"/>');
  });

  void it('handles very deep constructed trees without recursion limits', () => {
    let deep: XmlElement = el(dav('leaf'));
    for (let i = 0; i < 5_000; i++) deep = el(dav('n'), deep);
    const out = serializeElement(deep);
    assert.ok(out.startsWith('<d:n xmlns:d="DAV:"><d:n><d:n>'));
    assert.ok(out.endsWith('<d:n><d:leaf/>' + '</d:n>'.repeat(5_000)));
    assert.equal(out.split('</d:n>').length - 1, 5_000);
    // Walked by hand: assert.deepEqual itself recurses and would overflow on this tree.
    let node: XmlNode | undefined = parseXml(out, { maxDepth: 10_000 });
    let levels = 0;
    while (node?.type === 'element' && node.name === dav('n')) {
      assert.equal(node.children.length, 1);
      node = node.children[0];
      levels++;
    }
    assert.equal(levels, 5_000);
    assert.deepEqual(node, el(dav('leaf')));
  });
});

// Deterministic PRNG so a failure reproduces; the seed is in the test name.
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = ['', NS.DAV, NS.CALDAV, NS.CARDDAV, NS.CS, NS.ICAL, 'urn:x', 'http://example.com/a?b&c="d"', 'urn:odd}brace'];
const LOCALS = ['a', 'prop', 'calendar-data', 'x.y', '_u', 'n\u00e9', '\u65e5\u672c', 'x1'];
const PIECES = ['a', ' ', '  ', '\n', '\r', '\r\n', '\t', '&', '<', '>', '"', '\'', ']]>', '\u00e9', '\u{1F600}', '\u{1D11E}', '\u4e2d', '\u0085', '\u2028', '&amp;', 'BEGIN:VCALENDAR'];

function randomTree(random: () => number, depth: number): XmlElement {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const randomText = (): string => Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(PIECES)).join('');
  const name = (): ClarkName => clark(pick(NAMESPACES), pick(LOCALS));

  const attributes: Record<string, string> = {};
  const attributeCount = Math.floor(random() * 3);
  for (let i = 0; i < attributeCount; i++) attributes[name()] = random() < 0.2 ? '' : randomText();

  const children: XmlNode[] = [];
  const childCount = depth > 4 ? 0 : Math.floor(random() * 5);
  for (let i = 0; i < childCount; i++) {
    // Parsed trees never hold adjacent or empty text nodes, so generated ones must not either.
    if (random() < 0.4 && children.at(-1)?.type !== 'text') children.push({ type: 'text', text: randomText() });
    else children.push(randomTree(random, depth + 1));
  }
  return elAttrs(name(), attributes, ...children);
}

void describe('round-trip', () => {
  for (const seed of [1, 2, 3, 42, 1234, 99_999]) {
    void it(`parseXml(serializeElement(x)) deep-equals x for random trees (seed ${seed})`, () => {
      const random = mulberry32(seed);
      for (let i = 0; i < 50; i++) {
        const tree = randomTree(random, 0);
        const written = serializeElement(tree);
        assert.deepEqual(parseXml(written), tree, written);
        assert.deepEqual(parseXml(Buffer.from(xmlDocument(tree), 'utf8')), tree);
      }
    });
  }

  void it('round-trips a parsed client body, whitespace and all', () => {
    const body =
      '<?xml version="1.0" encoding="utf-8"?>\n' +
      '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns="urn:default">\n' +
      '  <D:prop><D:getetag/><C:calendar-data/><custom z="1" xmlns:p="urn:p" p:a="&#13;&#9;"/></D:prop>\n' +
      '  <C:filter><C:comp-filter name="VCALENDAR"><C:text-match>caf\u00e9 &amp; \u{1F382}&#13;\n</C:text-match></C:comp-filter></C:filter>\n' +
      '</C:calendar-query>\n';
    const parsed = parseXml(body);
    const written = serializeElement(parsed);
    assert.deepEqual(parseXml(written), parsed);
    assert.equal(serializeElement(parseXml(written)), written);
    assert.ok(written.startsWith('<cal:calendar-query xmlns:cal="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:" xmlns:x0="urn:default" xmlns:x1="urn:p">'), written);
  });

  void it('keeps a lone CR, CRLF and attribute whitespace exactly', () => {
    const tree = elAttrs(dav('x'), { a: '\r\n\t ', '{urn:n}b': ' x ' }, '\r', el(dav('y')), '\r\n \t');
    assert.deepEqual(parseXml(serializeElement(tree)), tree);
  });
});

void describe('escaping UTF-8 bytes', () => {
  const viaText = (bytes: Uint8Array): Buffer => Buffer.from(escapeText(Buffer.from(bytes).toString('utf8')), 'utf8');

  void it('gives the bytes escapeText gives, without decoding, for text XML can carry', () => {
    const samples = [
      'BEGIN:VCALENDAR\r\nSUMMARY:plain\r\nEND:VCALENDAR\r\n',
      'NOTE:a & b < c > d "e" \'f\'\r\n\tfolded\n',
      'FN:Zoë Ångström 山田太郎 \u{1F600}\r\n',
      '\uFEFFBOM first\r\n',
      'no specials at all',
      '',
    ];
    for (const text of samples) {
      const bytes = Buffer.from(text, 'utf8');
      const escaped = escapeUtf8Text(bytes);
      assert.ok(escaped !== undefined, text);
      assert.deepEqual(Buffer.from(escaped), viaText(bytes), text);
    }
  });

  void it('leaves to the text path what escapeText replaces or the decoder repairs', () => {
    const hard = [
      Buffer.from('a\u0000b', 'utf8'),
      Buffer.from('x\u001Fy\r\n', 'utf8'),
      Buffer.from('x\uFFFEy', 'utf8'),
      Buffer.from('x\uFFFFy', 'utf8'),
      Buffer.from([0x41, 0xff, 0x42]),
      Buffer.from([0x41, 0xc3]),
      Buffer.from([0xed, 0xa0, 0x80]),
    ];
    for (const bytes of hard) assert.equal(escapeUtf8Text(bytes), undefined, bytes.toString('hex'));
    // U+FFFD itself (EF BF BD) is ordinary text.
    assert.deepEqual(Buffer.from(escapeUtf8Text(Buffer.from('a\uFFFDb', 'utf8'))!), Buffer.from('a\uFFFDb', 'utf8'));
  });
});
