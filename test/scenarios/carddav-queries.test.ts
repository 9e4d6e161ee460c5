// CardDAV reports as clients use them (RFC 6352 §8.6-8.7, §10): addressbook-multiget with 404s,
// addressbook-query with every filter combination, match type and collation (non-ASCII names
// included), limit truncation as §8.6.2 reports it, address-data selection and conversion, and a
// query over a couple of thousand cards answered from the write-time index.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { carddav, dav } from '../../src/dav/xml/names.ts';
import { errorConditions, Harness } from '../support/harness.ts';
import { CARD_NS_DECL, contentLines, mkaddressbook, rawResponses, report, TEXT_VCARD, vcard } from '../support/dav-fixtures.ts';

const BOOK = '/addressbooks/alice/default/';

const CARDS: Readonly<Record<string, string>> = {
  'zoe.vcf': vcard('3.0', 'UID:zoe', 'FN:Zoë Ångström', 'N:Ångström;Zoë;;;', 'EMAIL;TYPE=INTERNET,WORK:zoe@work.example', 'EMAIL;TYPE=INTERNET,HOME:zoe@home.example',
    'TEL;TYPE=CELL:+49 170 1234567', 'NICKNAME:Zo', 'ORG:Acme GmbH;R&D', 'CATEGORIES:friends,work'),
  'lukasz.vcf': vcard('4.0', 'UID:urn:uuid:lukasz', 'FN:Łukasz Kowalski', 'N:Kowalski;Łukasz;;;', 'EMAIL;TYPE=home:lukasz@example.pl',
    'TEL;VALUE=uri;TYPE=work:tel:+48-22-123-45-67', 'NOTE:Met in Kraków'),
  'yamada.vcf': vcard('4.0', 'UID:urn:uuid:yamada', 'FN:山田太郎', 'N:山田;太郎;;;', 'EMAIL;TYPE=work:yamada@example.jp', 'ORG:株式会社例'),
  'john.vcf': vcard('3.0', 'UID:john', 'FN:John Doe', 'N:Doe;John;;;', 'EMAIL;TYPE=INTERNET:john.doe@example.com', 'TEL;TYPE=HOME:+1 555 0100',
    'item1.EMAIL:jd@example.org', 'item1.X-ABLabel:Other'),
  'jane.vcf': vcard('3.0', 'UID:jane', 'FN:Jane Doe', 'N:Doe;Jane;;;', 'TEL;TYPE=WORK:+1 555 0199'),
  'group.vcf': vcard('4.0', 'UID:urn:uuid:doe-family', 'KIND:group', 'FN:Doe family', 'MEMBER:urn:uuid:john', 'MEMBER:urn:uuid:jane'),
};

function queryBody(filter: string, options: { test?: string; prop?: string; limit?: number } = {}): string {
  const test = options.test === undefined ? '' : ` test="${options.test}"`;
  const limit = options.limit === undefined ? '' : `<C:limit><C:nresults>${options.limit}</C:nresults></C:limit>`;
  return `<?xml version="1.0" encoding="utf-8"?><C:addressbook-query ${CARD_NS_DECL}><D:prop>${options.prop ?? '<D:getetag/>'}</D:prop><C:filter${test}>${filter}</C:filter>${limit}</C:addressbook-query>`;
}

const textMatch = (text: string, attributes = ''): string => `<C:text-match${attributes === '' ? '' : ` ${attributes}`}>${text}</C:text-match>`;
const propFilter = (name: string, inner = '', test?: string): string => `<C:prop-filter name="${name}"${test === undefined ? '' : ` test="${test}"`}>${inner}</C:prop-filter>`;

void describe('addressbook-query filters', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    for (const [name, body] of Object.entries(CARDS)) {
      assert.equal((await h.send('PUT', `${BOOK}${name}`, { headers: TEXT_VCARD, body })).status, 201, name);
    }
  });
  after(async () => h.close());

  const q = async (filter: string, test?: string): Promise<string[]> => {
    const result = await report(h, BOOK, queryBody(filter, test === undefined ? {} : { test }));
    assert.equal(result.status, 207, result.text);
    return result.hrefs.map((href) => href.slice(BOOK.length)).sort();
  };

  void it('matches every card with an empty filter', async () => {
    assert.deepEqual(await q(''), Object.keys(CARDS).sort());
  });

  void it('text-match match types: equals, contains (the default), starts-with, ends-with', async () => {
    assert.deepEqual(await q(propFilter('FN', textMatch('doe'))), ['group.vcf', 'jane.vcf', 'john.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('doe', 'match-type="contains"'))), ['group.vcf', 'jane.vcf', 'john.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('john doe', 'match-type="equals"'))), ['john.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('john', 'match-type="equals"'))), []);
    assert.deepEqual(await q(propFilter('FN', textMatch('JA', 'match-type="starts-with"'))), ['jane.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('doe', 'match-type="starts-with"'))), ['group.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('kowalski', 'match-type="ends-with"'))), ['lukasz.vcf']);
    assert.deepEqual(await q(propFilter('EMAIL', textMatch('.example', 'match-type="ends-with"'))), ['zoe.vcf']);
  });

  void it('each collation, with Zoë, Łukasz and 山田', async () => {
    // i;unicode-casemap is the CardDAV default (RFC 6352 §10.5.4).
    assert.deepEqual(await q(propFilter('FN', textMatch('ZOË'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('ångström', 'collation="i;unicode-casemap"'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('łukasz', 'match-type="starts-with"'))), ['lukasz.vcf']);
    assert.deepEqual(await q(propFilter('N', textMatch('山田', 'match-type="starts-with"'))), ['yamada.vcf']);
    // i;ascii-casemap folds a-z only: ë/Ë and ł/Ł stay apart.
    assert.deepEqual(await q(propFilter('FN', textMatch('ZOË', 'collation="i;ascii-casemap"'))), []);
    assert.deepEqual(await q(propFilter('FN', textMatch('ZOë', 'collation="i;ascii-casemap"'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('łukasz', 'collation="i;ascii-casemap"'))), []);
    assert.deepEqual(await q(propFilter('FN', textMatch('ŁUKASZ KOWALSKI', 'collation="i;ascii-casemap" match-type="equals"'))), ['lukasz.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('山田太郎', 'collation="i;ascii-casemap" match-type="equals"'))), ['yamada.vcf']);
    // i;octet compares exactly.
    assert.deepEqual(await q(propFilter('FN', textMatch('doe', 'collation="i;octet"'))), []);
    assert.deepEqual(await q(propFilter('FN', textMatch('Doe', 'collation="i;octet"'))), ['group.vcf', 'jane.vcf', 'john.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('Zoë', 'collation="i;octet" match-type="starts-with"'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('ORG', textMatch('株式会社', 'collation="i;octet"'))), ['yamada.vcf']);
  });

  void it('negate-condition inverts the text-match', async () => {
    assert.deepEqual(await q(propFilter('FN', textMatch('doe', 'negate-condition="yes"'))), ['lukasz.vcf', 'yamada.vcf', 'zoe.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('john doe', 'match-type="equals" negate-condition="yes"'))), ['group.vcf', 'jane.vcf', 'lukasz.vcf', 'yamada.vcf', 'zoe.vcf']);
    // A card without the property has nothing to negate: only cards with EMAIL can match.
    assert.deepEqual(await q(propFilter('EMAIL', textMatch('example', 'negate-condition="yes"'))), []);
    assert.deepEqual(await q(propFilter('EMAIL', textMatch('.pl', 'match-type="ends-with" negate-condition="yes"'))), ['john.vcf', 'yamada.vcf', 'zoe.vcf']);
  });

  void it('is-not-defined', async () => {
    assert.deepEqual(await q(propFilter('EMAIL', '<C:is-not-defined/>')), ['group.vcf', 'jane.vcf']);
    assert.deepEqual(await q(propFilter('KIND', '<C:is-not-defined/>')), ['jane.vcf', 'john.vcf', 'lukasz.vcf', 'yamada.vcf', 'zoe.vcf']);
    assert.deepEqual(await q(propFilter('TEL', '<C:is-not-defined/>')), ['group.vcf', 'yamada.vcf']);
  });

  void it('param-filter: defined, is-not-defined, text-match on one value of a multi-valued TYPE', async () => {
    const type = (inner: string): string => `<C:param-filter name="TYPE">${inner}</C:param-filter>`;
    assert.deepEqual(await q(propFilter('EMAIL', type(textMatch('work', 'match-type="equals"')))), ['yamada.vcf', 'zoe.vcf']);
    assert.deepEqual(await q(propFilter('EMAIL', type(textMatch('home', 'match-type="equals"')))), ['lukasz.vcf', 'zoe.vcf']);
    assert.deepEqual(await q(propFilter('TEL', type(''))), ['jane.vcf', 'john.vcf', 'lukasz.vcf', 'zoe.vcf']);
    // john's item1.EMAIL has no TYPE.
    assert.deepEqual(await q(propFilter('EMAIL', type('<C:is-not-defined/>'))), ['john.vcf']);
    assert.deepEqual(await q(propFilter('TEL', type(textMatch('cell', 'match-type="equals" negate-condition="yes"')))), ['jane.vcf', 'john.vcf', 'lukasz.vcf']);
  });

  void it('prop-filter test="anyof" and test="allof"', async () => {
    const both = textMatch('john') + textMatch('doe');
    assert.deepEqual(await q(propFilter('FN', both, 'allof')), ['john.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('jane') + textMatch('john'), 'allof')), []);
    assert.deepEqual(await q(propFilter('FN', textMatch('jane') + textMatch('john'), 'anyof')), ['jane.vcf', 'john.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('jane') + textMatch('john'))), ['jane.vcf', 'john.vcf'], 'anyof is the default');
    // An e-mail address that contains "zoe" and is of TYPE home.
    assert.deepEqual(await q(propFilter('EMAIL', textMatch('zoe') + `<C:param-filter name="TYPE">${textMatch('home', 'match-type="equals"')}</C:param-filter>`, 'allof')), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('EMAIL', textMatch('lukasz') + `<C:param-filter name="TYPE">${textMatch('work', 'match-type="equals"')}</C:param-filter>`, 'allof')), []);
    assert.deepEqual(await q(propFilter('EMAIL', textMatch('lukasz') + `<C:param-filter name="TYPE">${textMatch('work', 'match-type="equals"')}</C:param-filter>`, 'anyof')), ['lukasz.vcf', 'yamada.vcf', 'zoe.vcf']);
  });

  void it('filter test="anyof" and test="allof" across prop-filters', async () => {
    const doeAndWorkPhone = propFilter('FN', textMatch('doe')) + propFilter('TEL', textMatch('0199'));
    assert.deepEqual(await q(doeAndWorkPhone, 'allof'), ['jane.vcf']);
    assert.deepEqual(await q(doeAndWorkPhone, 'anyof'), ['group.vcf', 'jane.vcf', 'john.vcf']);
    assert.deepEqual(await q(doeAndWorkPhone), ['group.vcf', 'jane.vcf', 'john.vcf'], 'anyof is the default');
    assert.deepEqual(await q(propFilter('EMAIL', '<C:is-not-defined/>') + propFilter('KIND', textMatch('group', 'match-type="equals"')), 'allof'), ['group.vcf']);
  });

  void it('searches indexed and other properties alike: NICKNAME, ORG, TEL, UID, NOTE, CATEGORIES, grouped X-ABLabel', async () => {
    assert.deepEqual(await q(propFilter('NICKNAME', textMatch('zo', 'match-type="equals"'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('ORG', textMatch('acme'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('TEL', textMatch('+48'))), ['lukasz.vcf']);
    assert.deepEqual(await q(propFilter('UID', textMatch('urn:uuid:yamada', 'match-type="equals"'))), ['yamada.vcf']);
    assert.deepEqual(await q(propFilter('NOTE', textMatch('KRAKÓW'))), ['lukasz.vcf']);
    assert.deepEqual(await q(propFilter('CATEGORIES', textMatch('friends'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('X-ABLabel', textMatch('other'))), ['john.vcf']);
    assert.deepEqual(await q(propFilter('MEMBER', textMatch('urn:uuid:jane', 'match-type="equals"'))), ['group.vcf']);
  });

  void it('refuses an unsupported collation with 403 supported-collation, and malformed filters with 403', async () => {
    const collation = await h.send('REPORT', BOOK, { headers: { depth: '1' }, body: queryBody(propFilter('FN', textMatch('x', 'collation="i;basic"'))) });
    assert.equal(collation.status, 403);
    assert.deepEqual(errorConditions(collation.text), [carddav('supported-collation')]);
    for (const bad of [propFilter('FN', textMatch('x', 'match-type="fuzzy"')), propFilter('FN', textMatch('x', 'negate-condition="perhaps"')), '<C:prop-filter><C:is-not-defined/></C:prop-filter>']) {
      const response = await h.send('REPORT', BOOK, { headers: { depth: '1' }, body: queryBody(bad) });
      assert.equal(response.status, 403, bad);
    }
  });
});

void describe('addressbook-query results: limit, address-data selection and version', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    for (const [name, body] of Object.entries(CARDS)) await h.send('PUT', `${BOOK}${name}`, { headers: TEXT_VCARD, body });
  });
  after(async () => h.close());

  void it('truncates at nresults with a 507 response for the Request-URI, not counted among the results (RFC 6352 §8.6.2)', async () => {
    const response = await h.send('REPORT', BOOK, { headers: { depth: '1' }, body: queryBody(propFilter('FN', textMatch('doe')), { limit: 2 }) });
    assert.equal(response.status, 207);
    const responses = rawResponses(response.text);
    const cards = responses.filter((r) => r.href !== BOOK);
    assert.equal(cards.length, 2);
    for (const card of cards) assert.deepEqual([card.status, card.propstats], [undefined, 1], card.href);
    assert.ok(cards.every((c) => ['group.vcf', 'jane.vcf', 'john.vcf'].includes(c.href.slice(BOOK.length))));
    assert.deepEqual(responses.filter((r) => r.href === BOOK), [{ href: BOOK, status: 'HTTP/1.1 507 Insufficient Storage', errors: [dav('number-of-matches-within-limits')], propstats: 0 }]);

    for (const limit of [3, 10]) {
      const complete = rawResponses((await h.send('REPORT', BOOK, { headers: { depth: '1' }, body: queryBody(propFilter('FN', textMatch('doe')), { limit }) })).text);
      assert.deepEqual(complete.map((r) => r.href.slice(BOOK.length)).sort(), ['group.vcf', 'jane.vcf', 'john.vcf'], `limit ${limit}`);
    }
  });

  void it('returns only the requested vCard properties in address-data (RFC 6352 §10.4.2)', async () => {
    const result = await report(h, BOOK, queryBody(propFilter('FN', textMatch('zoë')), {
      prop: '<D:getetag/><C:address-data><C:prop name="FN"/><C:prop name="EMAIL"/><C:prop name="TEL" novalue="yes"/></C:address-data>',
    }));
    const lines = contentLines(result.data.get(`${BOOK}zoe.vcf`) ?? '');
    assert.equal(lines[0], 'BEGIN:VCARD');
    assert.equal(lines.at(-1), 'END:VCARD');
    assert.ok(lines.includes('VERSION:3.0'));
    assert.ok(lines.includes('FN:Zoë Ångström'));
    assert.deepEqual(lines.filter((l) => l.startsWith('EMAIL')), ['EMAIL;TYPE=INTERNET,WORK:zoe@work.example', 'EMAIL;TYPE=INTERNET,HOME:zoe@home.example']);
    assert.deepEqual(lines.filter((l) => l.startsWith('TEL')), ['TEL;TYPE=CELL:']);
    for (const absent of ['N:', 'NICKNAME', 'ORG', 'CATEGORIES']) assert.ok(!lines.some((l) => l.startsWith(absent)), absent);
  });

  void it('converts address-data to the requested version, with or without a property selection', async () => {
    const result = await report(h, BOOK, queryBody(propFilter('UID', textMatch('zoe', 'match-type="equals"')) , {
      prop: '<C:address-data content-type="text/vcard" version="4.0"/>',
    }));
    const lines = contentLines(result.data.get(`${BOOK}zoe.vcf`) ?? '');
    assert.equal(lines[1], 'VERSION:4.0');
    assert.ok(lines.includes('TEL;TYPE=cell:+49 170 1234567'), lines.join('\n'));
    const selected = await report(h, BOOK, queryBody(propFilter('UID', textMatch('urn:uuid:lukasz', 'match-type="equals"')), {
      prop: '<C:address-data content-type="text/vcard" version="3.0"><C:prop name="TEL"/></C:address-data>',
    }));
    const three = contentLines(selected.data.get(`${BOOK}lukasz.vcf`) ?? '');
    assert.equal(three[1], 'VERSION:3.0');
    assert.deepEqual(three.filter((l) => l.startsWith('TEL')), ['TEL;TYPE=WORK:+48-22-123-45-67']);
    assert.ok(!three.some((l) => l.startsWith('FN') || l.startsWith('EMAIL')));

    const unsupported = await h.send('REPORT', BOOK, { headers: { depth: '1' }, body: queryBody('', { prop: '<C:address-data content-type="text/vcard" version="2.1"/>' }) });
    assert.equal(unsupported.status, 403);
    assert.deepEqual(errorConditions(unsupported.text), [carddav('supported-address-data-conversion')]);
  });
});

void describe('addressbook-multiget', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice', 'bob']);
    await mkaddressbook(h, '/addressbooks/alice/work/');
    await h.send('PUT', `${BOOK}zoe.vcf`, { headers: TEXT_VCARD, body: CARDS['zoe.vcf'] ?? '' });
    await h.send('PUT', '/addressbooks/alice/work/yamada%20t.vcf', { headers: TEXT_VCARD, body: CARDS['yamada.vcf'] ?? '' });
  });
  after(async () => h.close());

  void it('answers every href in order, missing ones as 404, with address-data in the asked version', async () => {
    const hrefs = [`${BOOK}zoe.vcf`, `${BOOK}gone.vcf`, '/addressbooks/alice/work/yamada%20t.vcf', '/addressbooks/alice/nobook/x.vcf', '/addressbooks/bob/default/zoe.vcf', `${BOOK}zoe.vcf`];
    const body = `<C:addressbook-multiget ${CARD_NS_DECL}><D:prop><D:getetag/><C:address-data version="4.0"/></D:prop>${hrefs.map((href) => `<D:href>${href}</D:href>`).join('')}</C:addressbook-multiget>`;
    const response = await h.send('REPORT', BOOK, { headers: { depth: '1' }, body });
    assert.equal(response.status, 207);
    assert.deepEqual(rawResponses(response.text).map((r) => [r.href, r.status ?? 'found']), [
      [`${BOOK}zoe.vcf`, 'found'],
      [`${BOOK}gone.vcf`, 'HTTP/1.1 404 Not Found'],
      ['/addressbooks/alice/work/yamada%20t.vcf', 'found'],
      ['/addressbooks/alice/nobook/x.vcf', 'HTTP/1.1 404 Not Found'],
      ['/addressbooks/bob/default/zoe.vcf', 'HTTP/1.1 404 Not Found'],
    ]);
    const result = await report(h, BOOK, body);
    assert.equal(contentLines(result.data.get(`${BOOK}zoe.vcf`) ?? '')[1], 'VERSION:4.0');
    assert.equal(result.data.get('/addressbooks/alice/work/yamada%20t.vcf'), CARDS['yamada.vcf']);
  });

  void it('sends each card as stored, in its own version, when address-data names no version and no property', async () => {
    const hrefs = [`${BOOK}zoe.vcf`, '/addressbooks/alice/work/yamada%20t.vcf'];
    for (const data of ['<C:address-data/>', '<C:address-data><C:allprop/></C:address-data>', '<C:address-data content-type="text/vcard"/>']) {
      const result = await report(h, BOOK, `<C:addressbook-multiget ${CARD_NS_DECL}><D:prop><D:getetag/>${data}</D:prop>${hrefs.map((href) => `<D:href>${href}</D:href>`).join('')}</C:addressbook-multiget>`);
      assert.equal(result.data.get(`${BOOK}zoe.vcf`), CARDS['zoe.vcf'], data);
      assert.equal(result.data.get('/addressbooks/alice/work/yamada%20t.vcf'), CARDS['yamada.vcf'], data);
    }
  });
});

void describe('addressbook-query over 2,000 cards', () => {
  const BIG = '/addressbooks/alice/big/';
  const COUNT = 2000;
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    assert.equal((await mkaddressbook(h, BIG)).status, 201);
    for (let n = 1; n <= COUNT; n++) {
      const body = n % 2 === 0
        ? vcard('4.0', `UID:urn:uuid:person-${n}`, `FN:Person ${n}`, `N:${n};Person;;;`, `EMAIL;TYPE=work:person-${n}@example.com`, `TEL:+1 555 ${String(n).padStart(4, '0')}`)
        : vcard('3.0', `UID:person-${n}`, `FN:Person ${n}`, `N:${n};Person;;;`, `EMAIL;TYPE=INTERNET:person-${n}@example.com`, ...(n % 5 === 0 ? [] : [`NICKNAME:P${n}`]));
      const response = await h.send('PUT', `${BIG}p${n}.vcf`, { headers: TEXT_VCARD, body });
      assert.equal(response.status, 201);
    }
  });
  after(async () => h.close());

  const q = async (filter: string, test?: string): Promise<number[]> => {
    const result = await report(h, BIG, queryBody(filter, test === undefined ? {} : { test }));
    assert.equal(result.status, 207);
    return result.hrefs.map((href) => Number(/p(\d+)\.vcf$/u.exec(href)?.[1])).sort((a, b) => a - b);
  };
  const all = Array.from({ length: COUNT }, (_, i) => i + 1);

  void it('keeps a search index row for every card', async () => {
    const book = await h.store.getCollection(BIG);
    assert.ok(book);
    const rows = await h.store.listSearchIndex(book.id);
    assert.equal(rows.length, COUNT);
    assert.ok(rows.every((row) => row.searchIndex !== null));
  });

  void it('answers exact, prefix and negated queries correctly', async () => {
    assert.deepEqual(await q(propFilter('FN', textMatch('person 1234', 'match-type="equals"'))), [1234]);
    assert.deepEqual(await q(propFilter('EMAIL', textMatch('person-19', 'match-type="starts-with"'))), all.filter((n) => `person-${n}@`.startsWith('person-19')));
    assert.deepEqual(await q(propFilter('FN', textMatch('99', 'match-type="ends-with"'))), all.filter((n) => String(n).endsWith('99')));
    assert.deepEqual(await q(propFilter('FN', textMatch('person', 'negate-condition="yes"'))), []);
    assert.deepEqual(await q(propFilter('NICKNAME', '<C:is-not-defined/>')), all.filter((n) => n % 2 === 0 || n % 5 === 0));
    assert.deepEqual(await q(propFilter('TEL', textMatch('555 19', 'collation="i;octet"'))), all.filter((n) => n % 2 === 0 && String(n).padStart(4, '0').startsWith('19')));
    // A mix of indexed and other properties still needs no full scan to be right.
    assert.deepEqual(await q(propFilter('FN', textMatch('person 7', 'match-type="starts-with"')) + propFilter('EMAIL', `<C:param-filter name="TYPE">${textMatch('work', 'match-type="equals"')}</C:param-filter>`), 'allof'),
      all.filter((n) => String(n).startsWith('7') && n % 2 === 0));
  });

  void it('reports truncation over the big book too', async () => {
    const response = await h.send('REPORT', BIG, { headers: { depth: '1' }, body: queryBody(propFilter('FN', textMatch('person')), { limit: 25 }) });
    const responses = rawResponses(response.text);
    assert.equal(responses.filter((r) => r.href !== BIG).length, 25);
    assert.deepEqual(responses.filter((r) => r.href === BIG).map((r) => [r.status, r.errors]), [['HTTP/1.1 507 Insufficient Storage', [dav('number-of-matches-within-limits')]]]);
  });
});

void describe('addressbook-query after cards change (the parsed index is reused between queries)', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    for (const [name, body] of Object.entries(CARDS)) {
      assert.equal((await h.send('PUT', `${BOOK}${name}`, { headers: TEXT_VCARD, body })).status, 201, name);
    }
  });
  after(async () => h.close());

  const q = async (filter: string): Promise<string[]> => {
    const result = await report(h, BOOK, queryBody(filter));
    assert.equal(result.status, 207, result.text);
    return result.hrefs.map((href) => href.slice(BOOK.length)).sort();
  };

  void it('sees an edited name, a new card and a deleted card in the very next query', async () => {
    const doe = propFilter('FN', textMatch('doe'));
    assert.deepEqual(await q(doe), ['group.vcf', 'jane.vcf', 'john.vcf']);
    assert.deepEqual(await q(doe), ['group.vcf', 'jane.vcf', 'john.vcf']);
    const renamed = vcard('3.0', 'UID:jane', 'FN:Jane Roe', 'N:Roe;Jane;;;', 'TEL;TYPE=WORK:+1 555 0199');
    assert.equal((await h.send('PUT', `${BOOK}jane.vcf`, { headers: TEXT_VCARD, body: renamed })).status, 204);
    assert.deepEqual(await q(doe), ['group.vcf', 'john.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('roe'))), ['jane.vcf']);
    const added = vcard('4.0', 'UID:urn:uuid:dora', 'FN:Dora Doe', 'N:Doe;Dora;;;');
    assert.equal((await h.send('PUT', `${BOOK}dora.vcf`, { headers: TEXT_VCARD, body: added })).status, 201);
    assert.equal((await h.send('DELETE', `${BOOK}john.vcf`)).status, 204);
    assert.deepEqual(await q(doe), ['dora.vcf', 'group.vcf']);
  });

  void it('answers each collation from its own folding of the same cached card', async () => {
    assert.deepEqual(await q(propFilter('FN', textMatch('ZOË', 'collation="i;unicode-casemap"'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('ZOË', 'collation="i;ascii-casemap"'))), []);
    assert.deepEqual(await q(propFilter('FN', textMatch('Zoë', 'collation="i;octet"'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('zoë', 'collation="i;octet"'))), []);
  });
});

void describe('addressbook-query over cards indexed by an earlier release (no folded values stored)', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    for (const [name, body] of Object.entries(CARDS)) {
      assert.equal((await h.send('PUT', `${BOOK}${name}`, { headers: TEXT_VCARD, body })).status, 201, name);
    }
    // What a release before the folded values wrote for zoe.vcf: the index values alone.
    const book = (await h.store.getCollection(BOOK))!;
    const zoe = (await h.store.getObjectWithBody(book.id, 'zoe.vcf'))!;
    const index = { fn: ['Zoë Ångström'], n: ['Ångström;Zoë;;;'], email: ['zoe@work.example', 'zoe@home.example'], tel: ['+49 170 1234567'], nickname: ['Zo'], org: ['Acme GmbH;R&D'], uid: ['zoe'] };
    await h.store.putObject({ collectionId: book.id, name: 'zoe.vcf', body: zoe.body, contentType: 'text/vcard', metadata: { uid: 'zoe', component: 'VCARD', searchIndex: JSON.stringify(index) } });
  });
  after(async () => h.close());

  const q = async (filter: string): Promise<string[]> => {
    const result = await report(h, BOOK, queryBody(filter));
    assert.equal(result.status, 207, result.text);
    return result.hrefs.map((href) => href.slice(BOOK.length)).sort();
  };

  void it('still finds them, next to cards the current release indexed', async () => {
    assert.deepEqual(await q(propFilter('FN', textMatch('ångström'))), ['zoe.vcf']);
    assert.deepEqual(await q(propFilter('EMAIL', textMatch('EXAMPLE', 'match-type="contains"'))), ['john.vcf', 'lukasz.vcf', 'yamada.vcf', 'zoe.vcf']);
    assert.deepEqual(await q(propFilter('FN', textMatch('zoe ', 'match-type="starts-with"'))), []);
    assert.deepEqual(await q(propFilter('FN', textMatch('zoë ', 'match-type="starts-with"'))), ['zoe.vcf']);
  });
});
