// Tests for parseXml: namespaces, text fidelity, and refusal of hostile or oversized bodies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caldav, clark, dav } from './names.ts';
import { DEFAULT_XML_LIMITS, XmlParseError, parseXml } from './parse.ts';
import type { XmlParseFailure } from './parse.ts';
import type { XmlElement, XmlNode } from './tree.ts';

/** A compact view of a tree: [name, attributes, ...children] with text as plain strings. */
type Shape = string | [string, Record<string, string>, ...Shape[]];
function shape(node: XmlNode): Shape {
  if (node.type === 'text') return node.text;
  return [node.name, Object.fromEntries(node.attributes), ...node.children.map(shape)];
}

function rejects(input: string | Uint8Array, reason: XmlParseFailure, limits?: Parameters<typeof parseXml>[1]): void {
  assert.throws(
    () => parseXml(input, limits),
    (error: unknown) => {
      assert.ok(error instanceof XmlParseError, `expected XmlParseError, got ${String(error)}`);
      assert.equal(error.reason, reason, error.message);
      return true;
    },
  );
}

void describe('parseXml namespaces', () => {
  void it('resolves arbitrary prefixes', () => {
    const root = parseXml('<A:propfind xmlns:A="DAV:"><A:prop><A:getetag/></A:prop></A:propfind>');
    assert.deepEqual(shape(root), ['{DAV:}propfind', {}, ['{DAV:}prop', {}, ['{DAV:}getetag', {}]]]);
  });

  void it('resolves a default namespace', () => {
    const root = parseXml('<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>');
    assert.deepEqual(shape(root), ['{DAV:}propfind', {}, ['{DAV:}prop', {}, ['{DAV:}displayname', {}]]]);
  });

  void it('mixes prefixes, default namespaces and redeclarations', () => {
    const root = parseXml(
      '<D:propfind xmlns:D="DAV:" xmlns="urn:ietf:params:xml:ns:caldav">' +
        '<D:prop><calendar-data/><D:getetag/></D:prop>' +
        '<x xmlns="urn:other"><y/></x>' +
        '<D:z xmlns:D="urn:rebound"><D:w/></D:z>' +
        '<D:after/>' +
        '<u xmlns=""/>' +
        '</D:propfind>',
    );
    assert.deepEqual(shape(root), [
      '{DAV:}propfind', {},
      ['{DAV:}prop', {}, ['{urn:ietf:params:xml:ns:caldav}calendar-data', {}], ['{DAV:}getetag', {}]],
      ['{urn:other}x', {}, ['{urn:other}y', {}]],
      ['{urn:rebound}z', {}, ['{urn:rebound}w', {}]],
      ['{DAV:}after', {}],
      ['{}u', {}],
    ]);
  });

  void it('gives unprefixed elements without a default namespace the empty namespace', () => {
    assert.deepEqual(shape(parseXml('<a><b/></a>')), ['{}a', {}, ['{}b', {}]]);
  });

  void it('keys attributes by Clark name and drops xmlns declarations', () => {
    const root = parseXml(
      '<C:comp-filter xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:q="urn:q" name="VEVENT" q:n="1" xml:lang="en"/>',
    );
    assert.equal(root.name, caldav('comp-filter'));
    assert.deepEqual([...root.attributes], [
      ['{}name', 'VEVENT'],
      ['{urn:q}n', '1'],
      ['{http://www.w3.org/XML/1998/namespace}lang', 'en'],
    ]);
  });

  void it('rejects unbound prefixes on elements and attributes', () => {
    rejects('<D:propfind/>', 'malformed');
    rejects('<a q:x="1"/>', 'malformed');
    rejects('<a xmlns:p=""/>', 'malformed');
  });

  void it('rejects attributes that collide after namespace resolution', () => {
    rejects('<a xmlns:p="urn:x" xmlns:q="urn:x" p:b="1" q:b="2"/>', 'malformed');
  });
});

void describe('parseXml text', () => {
  void it('keeps client-style indentation, including whitespace-only nodes', () => {
    const body = '\n  <?xml version="1.0" encoding="utf-8" ?>\n<d:propfind xmlns:d="DAV:">\n  <d:prop>\n    <d:getetag />\n  </d:prop>\n</d:propfind>\n';
    assert.deepEqual(shape(parseXml(body)), [
      '{DAV:}propfind', {}, '\n  ', ['{DAV:}prop', {}, '\n    ', ['{DAV:}getetag', {}], '\n  '], '\n',
    ]);
  });

  void it('accepts leading whitespace before a root without declaration', () => {
    assert.equal(parseXml('\r\n\t <d:x xmlns:d="DAV:"/>').name, dav('x'));
  });

  void it('keeps CDATA as text, drops comments and PIs, and merges the text around them', () => {
    const root = parseXml('<a>one<!-- gone --> two<?pi data?><![CDATA[ <three> & ]]>four<![CDATA[]]><b/></a>');
    assert.deepEqual(shape(root), ['{}a', {}, 'one two <three> & four', ['{}b', {}]]);
  });

  void it('expands predefined entities and character references, including non-BMP ones', () => {
    const root = parseXml('<a x="&quot;&#9;&#10;&#13;">&amp;&lt;&gt;&apos;&#x1F600;&#13;&#120;</a>');
    assert.deepEqual(shape(root), ['{}a', { '{}x': '"\t\n\r' }, '&<>\'\u{1F600}\rx']);
  });

  void it('keeps literal non-BMP characters', () => {
    assert.deepEqual(shape(parseXml('<a b="\u{1F4C5}">\u{1F4C5} \u{1D11E}</a>')), ['{}a', { '{}b': '\u{1F4C5}' }, '\u{1F4C5} \u{1D11E}']);
  });

  void it('normalizes literal line ends as XML requires', () => {
    assert.deepEqual(shape(parseXml('<a b="x\ty\r\nz">1\r\n2\r3</a>')), ['{}a', { '{}b': 'x y z' }, '1\n2\n3']);
  });

  void it('rejects undeclared entities', () => {
    rejects('<a>&foo;</a>', 'malformed');
    rejects('<a b="&nbsp;"/>', 'malformed');
  });
});

void describe('parseXml byte input', () => {
  void it('decodes UTF-8 and strips a BOM', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('<a>\u00e9\u{1F600}</a>')]);
    assert.deepEqual(shape(parseXml(bytes)), ['{}a', {}, '\u00e9\u{1F600}']);
    assert.deepEqual(shape(parseXml(Buffer.from('<?xml version="1.0" encoding="UTF-8"?><a/>'))), ['{}a', {}]);
  });

  void it('strips a BOM from string input too', () => {
    assert.deepEqual(shape(parseXml('\uFEFF<a/>')), ['{}a', {}]);
  });

  void it('rejects invalid UTF-8 and encodings it would misread', () => {
    rejects(new Uint8Array([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e]), 'malformed');
    rejects(Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a/>'), 'malformed');
  });
});

void describe('parseXml malformed and empty input', () => {
  void it('classifies empty bodies', () => {
    rejects('', 'empty');
    rejects(' \r\n\t ', 'empty');
    rejects(new Uint8Array(0), 'empty');
    rejects(new Uint8Array([0xef, 0xbb, 0xbf, 0x20]), 'empty');
  });

  void it('rejects truncated and otherwise broken documents', () => {
    rejects('<d:propfind xmlns:d="DAV:"><d:prop>', 'malformed');
    rejects('<d:propfind xmlns:d="DAV:"><d:pr', 'malformed');
    rejects('<a></b>', 'malformed');
    rejects('<a/><b/>', 'malformed');
    rejects('<a/>trailing', 'malformed');
    rejects('text', 'malformed');
    rejects('<!-- only a comment -->', 'malformed');
    rejects('<a>\u0001</a>', 'malformed');
    rejects('<a>\uD800</a>', 'malformed');
  });
});

void describe('parseXml hostile documents', () => {
  void it('refuses a billion-laughs entity bomb as doctype', () => {
    const lol = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [',
      ' <!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
      ']>',
      '<lolz>&lol9;</lolz>',
    ].join('\n');
    rejects(lol, 'doctype');
  });

  void it('refuses external entities as doctype', () => {
    rejects('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', 'doctype');
    rejects('<?xml version="1.0"?><!-- hi --><?pi x?>\n<!DOCTYPE x SYSTEM "http://evil.example/x.dtd"><x/>', 'doctype');
    rejects('<!doctype x><x/>', 'doctype');
  });

  void it('refuses a DOCTYPE inside or after the root', () => {
    rejects('<x><!DOCTYPE y></x>', 'doctype');
    rejects('<x/><!DOCTYPE y>', 'doctype');
  });

  void it('refuses a 1 MB internal subset without reading it', () => {
    const subset = '<!ENTITY a "' + 'a'.repeat(1024 * 1024) + '">';
    const started = performance.now();
    rejects(`<!DOCTYPE x [${subset}]><x/>`, 'doctype');
    // Unterminated: only a prolog check can name it 'doctype' rather than 'malformed'.
    rejects(`<!DOCTYPE x [${subset}`, 'doctype');
    assert.ok(performance.now() - started < 250, 'doctype refusal should not scale with the subset');
  });

  void it('stops at the depth limit before reading the rest', () => {
    // The document is also truncated: an early abort reports too-deep, a late one would say malformed.
    rejects('<a>'.repeat(10_000), 'too-deep');
    const atLimit = '<a>'.repeat(DEFAULT_XML_LIMITS.maxDepth) + '</a>'.repeat(DEFAULT_XML_LIMITS.maxDepth);
    assert.equal(parseXml(atLimit).name, clark('', 'a'));
    rejects('<b>' + atLimit + '</b>', 'too-deep');
    rejects('<a><a><a/></a></a>', 'too-deep', { maxDepth: 2 });
    assert.equal(parseXml('<a><a/></a>', { maxDepth: 2 }).children.length, 1);
  });

  void it('stops at the element limit before reading the rest', () => {
    rejects('<r>' + '<e/>'.repeat(200_000), 'too-many-elements');
    const atLimit = '<r>' + '<e/>'.repeat(DEFAULT_XML_LIMITS.maxElements - 1) + '</r>';
    assert.equal(parseXml(atLimit).children.length, DEFAULT_XML_LIMITS.maxElements - 1);
    rejects('<r><e/><e/><e/></r>', 'too-many-elements', { maxElements: 3 });
    assert.equal(parseXml('<r><e/><e/></r>', { maxElements: 3 }).children.length, 2);
  });

  void it('uses documented defaults', () => {
    assert.deepEqual(DEFAULT_XML_LIMITS, { maxDepth: 64, maxElements: 100_000 });
  });

  void it('reports the reason on a proper Error subclass', () => {
    try {
      parseXml('<!DOCTYPE x><x/>');
      assert.fail('should have thrown');
    } catch (error) {
      assert.ok(error instanceof Error);
      assert.ok(error instanceof XmlParseError);
      assert.equal(error.name, 'XmlParseError');
      assert.equal(error.reason, 'doctype');
    }
  });
});

// Keeps the shape helper honest: it must distinguish element from text children.
void describe('shape helper', () => {
  void it('renders a tree', () => {
    const root: XmlElement = parseXml('<a x="1">t<b/></a>');
    assert.deepEqual(shape(root), ['{}a', { '{}x': '1' }, 't', ['{}b', {}]]);
  });
});

// Small documents are parsed once and their trees shared by later requests (see parseXml).
void describe('parseXml on repeated documents', () => {
  void it('answers the same document again with the same tree, which no caller can change', () => {
    const text = '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/>tag</D:prop></D:propfind>';
    const first = parseXml(text);
    const again = parseXml(new TextEncoder().encode(text));
    assert.deepEqual(shape(again), shape(first));
    const prop = first.children[0];
    assert.ok(prop?.type === 'element');
    assert.throws(() => (prop.children as XmlNode[]).push({ type: 'text', text: 'more' }), TypeError);
    assert.throws(() => {
      (first as { name: string }).name = '{}other';
    }, TypeError);
    assert.deepEqual(shape(parseXml(text)), ['{DAV:}propfind', {}, ['{DAV:}prop', {}, ['{DAV:}getetag', {}], 'tag']]);
  });

  void it('still checks the declared encoding of bytes after the same text was parsed as a string', () => {
    const text = '<?xml version="1.0" encoding="ISO-8859-1"?><a/>';
    assert.equal(parseXml(text).name, '{}a');
    rejects(new TextEncoder().encode(text), 'malformed');
    rejects(new TextEncoder().encode(text), 'malformed');
  });

  void it('refuses a malformed document every time it is sent', () => {
    rejects('<a><b></a>', 'malformed');
    rejects('<a><b></a>', 'malformed');
  });
});
