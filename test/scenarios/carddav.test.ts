// CardDAV collections and contacts as clients see them (RFC 6352 §5-6): address books by extended
// MKCOL, renames, advertised properties, every PUT precondition, byte-exact storage, vCard 3.0 ↔ 4.0
// on GET, photos up to the size limit, and the real-world corpus cards that must be accepted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../src/config/config.ts';
import { carddav, cs, dav, type ClarkName } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { childElements, findChild, textContent } from '../../src/dav/xml/tree.ts';
import { errorConditions, Harness, parseMultistatus, propfindBody, type TestResponse } from '../support/harness.ts';
import {
  CARD_NS_DECL, clientTrace, contentLines, corpusBytes, creationPropstats, mkaddressbook, padTo, proppatch, propsOf, TEXT_VCARD, vcard, withUid, XML,
} from '../support/dav-fixtures.ts';

const BOOK = '/addressbooks/alice/default/';
const HOME = '/addressbooks/alice/';

function bodyBytes(response: TestResponse): Buffer {
  const body = response.raw.body;
  return body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
}

async function refused(h: Harness, path: string, body: string | Uint8Array, headers: Record<string, string> = TEXT_VCARD): Promise<{ status: number; conditions: ClarkName[]; text: string }> {
  const response = await h.send('PUT', path, { headers, body });
  const conditions = response.text.startsWith('<?xml') ? errorConditions(response.text) : [];
  assert.equal((await h.send('GET', path)).status, 404, `${path} must not exist after a refused PUT`);
  return { status: response.status, conditions, text: response.text };
}

const JPEG_HEAD = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01];
/** JPEG-looking bytes of the given length (the signature, then a pattern, then the end marker). */
function jpegBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  Buffer.from(JPEG_HEAD).copy(bytes);
  for (let i = JPEG_HEAD.length; i < length - 2; i++) bytes[i] = (i * 7) % 256;
  bytes[length - 2] = 0xff;
  bytes[length - 1] = 0xd9;
  return bytes;
}

/** vCard 3.0 folding of a long line at 75 octets (ASCII only here). */
const fold = (line: string): string => line.match(/.{1,74}/gu)!.join('\r\n ');

void describe('address book collections', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  void it('creates an address book with extended MKCOL and its properties', async () => {
    const response = await mkaddressbook(h, `${HOME}work/`, '<D:displayname>Work</D:displayname><C:addressbook-description>Colleagues of Zoë</C:addressbook-description>');
    assert.equal(response.status, 201, response.text);
    const props = await propsOf(h, `${HOME}work/`, propfindBody(dav('resourcetype'), dav('displayname'), carddav('addressbook-description')));
    assert.deepEqual(childElements(props.get(dav('resourcetype'))!.element).map((e) => e.name), [dav('collection'), carddav('addressbook')]);
    assert.equal(textContent(props.get(dav('displayname'))!.element), 'Work');
    assert.equal(textContent(props.get(carddav('addressbook-description'))!.element), 'Colleagues of Zoë');
    assert.equal((await mkaddressbook(h, `${HOME}work/`)).status, 405);
  });

  void it('refuses an extended MKCOL with an invalid property as a whole (RFC 5689 §3.3)', async () => {
    const response = await mkaddressbook(h, `${HOME}broken/`, '<D:displayname>Broken</D:displayname><D:getetag>"x"</D:getetag>');
    assert.equal(response.status, 403, response.text);
    assert.deepEqual(creationPropstats(response.text, dav('mkcol-response')).map((p) => [p.props, p.status]), [
      [[dav('getetag')], 'HTTP/1.1 403 Forbidden'],
      [[dav('displayname')], 'HTTP/1.1 424 Failed Dependency'],
    ]);
    assert.equal((await h.send('PROPFIND', `${HOME}broken/`, { headers: { depth: '0' } })).status, 404);
    // An address book lives in the address book home only.
    const misplaced = await mkaddressbook(h, '/calendars/alice/book/');
    assert.equal(misplaced.status, 403);
    assert.deepEqual(errorConditions(misplaced.text), [dav('valid-resourcetype')]);
    assert.equal((await mkaddressbook(h, `${BOOK}nested/`)).status, 403);
  });

  void it('renames and describes an address book with PROPPATCH, and deletes it', async () => {
    await mkaddressbook(h, `${HOME}family/`);
    const patched = await proppatch(h, `${HOME}family/`, '<D:displayname>Family &amp; friends</D:displayname><C:addressbook-description>Łukasz, 山田, Zoë</C:addressbook-description>', CARD_NS_DECL);
    assert.equal(patched.status, 207);
    assert.equal((patched.text.match(/HTTP\/1\.1 200 OK/gu) ?? []).length, 1);
    const props = await propsOf(h, `${HOME}family/`, propfindBody(dav('displayname'), carddav('addressbook-description')));
    assert.equal(textContent(props.get(dav('displayname'))!.element), 'Family & friends');
    assert.equal(textContent(props.get(carddav('addressbook-description'))!.element), 'Łukasz, 山田, Zoë');
    assert.equal((await h.send('DELETE', `${HOME}family/`)).status, 204);
    assert.equal((await h.send('PROPFIND', `${HOME}family/`, { headers: { depth: '0' } })).status, 404);
  });

  void it('advertises vCard 3.0 and 4.0, max-resource-size, getctag and exactly its reports', async () => {
    const props = await propsOf(h, BOOK, propfindBody(carddav('supported-address-data'), carddav('max-resource-size'), cs('getctag'), dav('supported-report-set')));
    const types = childElements(props.get(carddav('supported-address-data'))!.element).map((e) => [e.name, e.attributes.get('{}content-type' as ClarkName), e.attributes.get('{}version' as ClarkName)]);
    assert.deepEqual(types, [[carddav('address-data-type'), 'text/vcard', '3.0'], [carddav('address-data-type'), 'text/vcard', '4.0']]);
    assert.equal(textContent(props.get(carddav('max-resource-size'))!.element), String(DEFAULTS.maxResourceSize));
    const reports = childElements(props.get(dav('supported-report-set'))!.element).map((s) => childElements(findChild(s, dav('report'))!)[0]!.name).sort();
    assert.deepEqual(reports, [dav('expand-property'), dav('sync-collection'), carddav('addressbook-multiget'), carddav('addressbook-query')].sort());

    const ctag = textContent(props.get(cs('getctag'))!.element);
    assert.equal((await h.send('PUT', `${BOOK}c.vcf`, { headers: TEXT_VCARD, body: vcard('3.0', 'UID:c', 'FN:C') })).status, 201);
    const after = textContent((await propsOf(h, BOOK, propfindBody(cs('getctag')))).get(cs('getctag'))!.element);
    assert.notEqual(after, ctag);
  });

  void it('moves the address book home getctag and sync-token when a card inside changes', async () => {
    const markers = async (): Promise<string[]> => {
      const props = await propsOf(h, HOME, propfindBody(cs('getctag'), dav('sync-token')));
      return [textContent(props.get(cs('getctag'))!.element), textContent(props.get(dav('sync-token'))!.element)];
    };
    const before = await markers();
    assert.equal((await h.send('PUT', `${BOOK}home-marker.vcf`, { headers: TEXT_VCARD, body: vcard('4.0', 'UID:home-marker', 'FN:Marker') })).status, 201);
    const afterPut = await markers();
    assert.notEqual(afterPut[0], before[0]);
    assert.notEqual(afterPut[1], before[1]);
    assert.equal((await h.send('DELETE', `${BOOK}home-marker.vcf`)).status, 204);
    const afterDelete = await markers();
    assert.notEqual(afterDelete[0], afterPut[0]);
    assert.deepEqual(await markers(), afterDelete);
  });

  void it('answers the address book home PROPFIND of iOS with values or 404s, never an error', async () => {
    const trace = clientTrace('ios-macos/21-propfind-addressbook-home-depth1.http');
    const asked = childElements(findChild(parseXml(trace.body), dav('prop'))!).map((e) => e.name);
    const headers = { ...trace.headers };
    delete headers.prefer;
    delete headers.brief;
    const response = await h.send('PROPFIND', HOME, { headers, body: trace.body });
    assert.equal(response.status, 207);
    const responses = parseMultistatus(response.text);
    assert.ok(responses.some((r) => r.href === BOOK));
    for (const r of responses) {
      assert.deepEqual([...r.props.keys()].sort(), [...asked].sort(), r.href);
      for (const [name, { status }] of r.props) assert.match(status, /^HTTP\/1\.1 (200 OK|404 Not Found)$/u, `${r.href} ${name}`);
    }
    const book = responses.find((r) => r.href === BOOK)!;
    for (const name of [dav('resourcetype'), dav('sync-token'), carddav('max-resource-size'), dav('supported-report-set')]) {
      assert.equal(book.props.get(name)?.status, 'HTTP/1.1 200 OK', name);
    }
  });
});

void describe('CardDAV PUT preconditions', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  void it('refuses what is not one vCard with 403 valid-address-data', async () => {
    const cases: [string, string | Uint8Array][] = [
      ['garbage', 'hello\r\n'],
      ['icalendar', 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n'],
      ['no-uid', vcard('3.0', 'FN:No Uid')],
      ['no-end', 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:X\r\n'],
      ['no-version', 'BEGIN:VCARD\r\nUID:x\r\nFN:X\r\nEND:VCARD\r\n'],
      ['no-name', vcard('4.0', 'UID:nameless', 'EMAIL:a@example.com')],
      ['two-cards', `${vcard('3.0', 'UID:one', 'FN:One')}${vcard('3.0', 'UID:two', 'FN:Two')}`],
      ['latin1', Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nUID:l1\r\nFN:Zo\xeb\r\nEND:VCARD\r\n', 'latin1')],
      ['corpus-list', corpusBytes('vcard/ez-vcard__gmail-list.vcf')],
      ['corpus-rfc2426', corpusBytes('vcard/ez-vcard__rfc2426-example.vcf')],
      ['corpus-bare-base64', corpusBytes('vcard/ez-vcard__John_Doe_MAC_ADDRESS_BOOK.vcf')],
    ];
    for (const [name, body] of cases) {
      const result = await refused(h, `${BOOK}${name}.vcf`, body);
      assert.equal(result.status, 403, `${name}: ${result.text}`);
      assert.deepEqual(result.conditions, [carddav('valid-address-data')], name);
    }
  });

  void it('refuses vCard 2.1 (as the README says) and other versions with supported-address-data', async () => {
    const cases: [string, string | Uint8Array][] = [
      ['v21', 'BEGIN:VCARD\r\nVERSION:2.1\r\nUID:v21\r\nN:Doe;John\r\nFN:John Doe\r\nTEL;CELL:+1 555\r\nEND:VCARD\r\n'],
      ['v5', vcard('3.0', 'UID:v5', 'FN:Five').replace('VERSION:3.0', 'VERSION:5.0')],
      ['outlook-2007', corpusBytes('vcard/ez-vcard__outlook-2007.vcf')],
      ['blackberry', corpusBytes('vcard/ez-vcard__John_Doe_BLACK_BERRY.vcf')],
    ];
    for (const [name, body] of cases) {
      const result = await refused(h, `${BOOK}${name}.vcf`, body);
      assert.equal(result.status, 403, `${name}: ${result.text}`);
      assert.deepEqual(result.conditions, [carddav('supported-address-data')], name);
    }
  });

  void it('refuses media types other than text/vcard with supported-address-data', async () => {
    const body = vcard('3.0', 'UID:media', 'FN:Media');
    for (const type of ['text/plain', 'text/calendar', 'application/vcard+json', 'application/octet-stream']) {
      const result = await refused(h, `${BOOK}media.vcf`, body, { 'content-type': type });
      assert.deepEqual([result.status, result.conditions], [403, [carddav('supported-address-data')]], type);
    }
    for (const [n, type] of ['text/vcard', 'text/x-vcard', 'TEXT/VCARD; charset=utf-8; version=4.0'].entries()) {
      assert.equal((await h.send('PUT', `${BOOK}media-${n}.vcf`, { headers: { 'content-type': type }, body: vcard('3.0', `UID:media-${n}`, 'FN:M') })).status, 201, type);
    }
  });

  void it('refuses a second card with the same UID with 409 no-uid-conflict naming the other href', async () => {
    const first = vcard('4.0', 'UID:urn:uuid:dup', 'FN:First');
    assert.equal((await h.send('PUT', `${BOOK}first.vcf`, { headers: TEXT_VCARD, body: first })).status, 201);
    const clash = await h.send('PUT', `${BOOK}second.vcf`, { headers: TEXT_VCARD, body: vcard('3.0', 'UID:urn:uuid:dup', 'FN:Second') });
    assert.equal(clash.status, 409, clash.text);
    const condition = findChild(parseXml(clash.text), carddav('no-uid-conflict'));
    assert.ok(condition, clash.text);
    assert.equal(textContent(findChild(condition, dav('href')) ?? condition), `${BOOK}first.vcf`);
    assert.equal((await h.send('GET', `${BOOK}second.vcf`)).status, 404);
    assert.equal((await h.send('PUT', `${BOOK}first.vcf`, { headers: TEXT_VCARD, body: vcard('4.0', 'UID:urn:uuid:dup', 'FN:First again') })).status, 204);
    await mkaddressbook(h, `${HOME}other/`);
    assert.equal((await h.send('PUT', `${HOME}other/first.vcf`, { headers: TEXT_VCARD, body: first })).status, 201);
  });

  void it('refuses a COPY or MOVE that would put a UID twice in one address book (RFC 6352 §6.3.2.1)', async () => {
    await mkaddressbook(h, `${HOME}copies/`);
    const body = vcard('3.0', 'UID:copied-card', 'FN:Copied');
    assert.equal((await h.send('PUT', `${BOOK}copy-source.vcf`, { headers: TEXT_VCARD, body })).status, 201);
    assert.equal((await h.send('PUT', `${HOME}copies/holder.vcf`, { headers: TEXT_VCARD, body })).status, 201);
    for (const [method, destination, holder] of [['COPY', `${BOOK}copy-twin.vcf`, `${BOOK}copy-source.vcf`], ['MOVE', `${HOME}copies/moved.vcf`, `${HOME}copies/holder.vcf`]] as const) {
      const response = await h.send(method, `${BOOK}copy-source.vcf`, { headers: { destination } });
      assert.equal(response.status, 409, `${method}: ${response.text}`);
      const condition = response.text.startsWith('<?xml') ? findChild(parseXml(response.text), carddav('no-uid-conflict')) : undefined;
      assert.ok(condition, `${method}: no CARDDAV:no-uid-conflict in: ${response.text}`);
      assert.equal(textContent(findChild(condition, dav('href')) ?? condition), holder);
      assert.equal((await h.send('GET', destination)).status, 404);
    }
    assert.equal((await h.send('GET', `${BOOK}copy-source.vcf`)).status, 200);
  });

  void it('stores the card byte for byte and serves it with the strong ETag PUT returned', async () => {
    // LF endings, lower-case names, a folded line, a group and a BOM-less UTF-8 name: kept as sent.
    const text = 'BEGIN:VCARD\nVERSION:3.0\nUID:bytes\nfn:Zoë Ångström\nn:Ångström;Zoë;;;\nNOTE:A very long note that goes on and on well past the seventy-five octet line\n  limit so that it is folded\nitem1.EMAIL;type=INTERNET:zoe@example.com\nitem1.X-ABLabel:_$!<Other>!$_\nEND:VCARD\n';
    const sent = Buffer.from(text, 'utf8');
    const put = await h.send('PUT', `${BOOK}bytes.vcf`, { headers: TEXT_VCARD, body: sent });
    assert.equal(put.status, 201);
    assert.match(put.headers.ETag ?? '', /^"[^"]+"$/u);
    const got = await h.send('GET', `${BOOK}bytes.vcf`);
    assert.ok(bodyBytes(got).equals(sent));
    assert.equal(got.headers.ETag, put.headers.ETag);
    assert.match(got.headers['Content-Type'] ?? '', /^text\/vcard/u);
    // Asking for the version it already is changes nothing.
    const same = await h.send('GET', `${BOOK}bytes.vcf`, { headers: { accept: 'text/vcard; version=3.0' } });
    assert.ok(bodyBytes(same).equals(sent));
    const props = await propsOf(h, `${BOOK}bytes.vcf`, propfindBody(dav('getetag'), carddav('address-data')));
    assert.equal(textContent(props.get(dav('getetag'))!.element), put.headers.ETag);
    assert.equal(textContent(props.get(carddav('address-data'))!.element), text);
  });
});

void describe('contacts with photos up to max-resource-size', () => {
  const LIMIT = 48 * 1024;
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice'], { maxResourceSize: LIMIT });
  });
  after(async () => h.close());

  void it('accepts a card with a photo of exactly the limit and refuses one octet more with max-resource-size', async () => {
    const props = await propsOf(h, BOOK, propfindBody(carddav('max-resource-size')));
    assert.equal(textContent(props.get(carddav('max-resource-size'))!.element), String(LIMIT));
    const photo = jpegBytes(33_000);
    const base = vcard('3.0', 'UID:exact', 'FN:Photo Person', 'N:Person;Photo;;;', fold(`PHOTO;ENCODING=b;TYPE=JPEG:${photo.toString('base64')}`));
    const exact = padTo(base, LIMIT);
    const put = await h.send('PUT', `${BOOK}exact.vcf`, { headers: TEXT_VCARD, body: exact });
    assert.equal(put.status, 201, put.text);
    assert.equal((await h.send('GET', `${BOOK}exact.vcf`)).text, exact);
    const v4 = await h.send('GET', `${BOOK}exact.vcf`, { headers: { accept: 'text/vcard; version=4.0' } });
    assert.equal(contentLines(v4.text).find((l) => l.startsWith('PHOTO')), `PHOTO:data:image/jpeg;base64,${photo.toString('base64')}`);

    const tooBig = await refused(h, `${BOOK}too-big.vcf`, padTo(base.replace('UID:exact', 'UID:too-big'), LIMIT + 1));
    assert.ok(tooBig.status === 403 || tooBig.status === 413, `${tooBig.status}`);
    assert.deepEqual(tooBig.conditions, [carddav('max-resource-size')], `${tooBig.status} ${tooBig.text}`);
  });
});

void describe('vCard 3.0 ↔ 4.0 on GET', () => {
  const JPEG = jpegBytes(200).toString('base64');
  const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).toString('base64');
  const CARD3 = vcard('3.0', 'UID:conv-3', 'FN:Zoë Ångström', 'N:Ångström;Zoë;;;', 'TEL;TYPE=CELL,VOICE:+49 170 1234567', 'TEL;TYPE=WORK,PREF:+49 30 1234',
    'EMAIL;TYPE=INTERNET,HOME:zoe@example.com', 'BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15', fold(`PHOTO;ENCODING=b;TYPE=JPEG:${JPEG}`),
    'item1.EMAIL;TYPE=INTERNET:zoe@work.example', 'item1.X-ABLabel:Work');
  const GROUP3 = vcard('3.0', 'UID:group-3', 'FN:Friends', 'N:Friends;;;;', 'X-ADDRESSBOOKSERVER-KIND:group', 'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:conv-3');
  const CARD4 = vcard('4.0', 'UID:urn:uuid:conv-4', 'FN:Łukasz Kowalski', 'N:Kowalski;Łukasz;;;', 'TEL;VALUE=uri;TYPE=cell:tel:+48-600-100-200',
    'EMAIL;TYPE=work;PREF=1:l@example.com', 'BDAY:--0704', `PHOTO:data:image/png;base64,${PNG}`);
  const GROUP4 = vcard('4.0', 'UID:urn:uuid:group-4', 'FN:Team', 'KIND:group', 'MEMBER:urn:uuid:conv-4', 'MEMBER:urn:uuid:conv-3');
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
    for (const [name, body] of [['c3', CARD3], ['g3', GROUP3], ['c4', CARD4], ['g4', GROUP4]] as const) {
      assert.equal((await h.send('PUT', `${BOOK}${name}.vcf`, { headers: TEXT_VCARD, body })).status, 201, name);
    }
  });
  after(async () => h.close());

  const get = async (name: string, version: string): Promise<{ response: TestResponse; lines: string[] }> => {
    const response = await h.send('GET', `${BOOK}${name}.vcf`, { headers: { accept: `text/vcard; version=${version}` } });
    assert.equal(response.status, 200);
    return { response, lines: contentLines(response.text) };
  };

  void it('converts a 3.0 card to 4.0: TEL/EMAIL types, PHOTO bytes, BDAY without year, groups kept', async () => {
    const { response, lines } = await get('c3', '4.0');
    assert.match(response.headers['Content-Type'] ?? '', /^text\/vcard;.*version=4\.0/u);
    assert.equal(lines[1], 'VERSION:4.0');
    assert.ok(lines.includes('UID:conv-3'));
    assert.ok(lines.includes('FN:Zoë Ångström'));
    assert.ok(lines.includes('TEL;TYPE=cell,voice:+49 170 1234567'), lines.join('\n'));
    assert.ok(lines.includes('TEL;TYPE=work;PREF=1:+49 30 1234'), lines.join('\n'));
    assert.ok(lines.some((l) => /^EMAIL;TYPE=[^:]*\bhome\b[^:]*:zoe@example\.com$/u.test(l)), lines.join('\n'));
    assert.ok(lines.includes('BDAY:--0315'), lines.join('\n'));
    assert.ok(lines.includes(`PHOTO:data:image/jpeg;base64,${JPEG}`), lines.join('\n'));
    assert.ok(lines.some((l) => /^item1\.EMAIL[;:].*zoe@work\.example$/u.test(l)));
    assert.ok(lines.some((l) => /^item1\.X-ABLabel:Work$/iu.test(l)));
  });

  void it('converts Apple groups to KIND/MEMBER and back', async () => {
    const four = (await get('g3', '4.0')).lines;
    assert.ok(four.includes('KIND:group'), four.join('\n'));
    assert.ok(four.includes('MEMBER:urn:uuid:conv-3'), four.join('\n'));
    const three = (await get('g4', '3.0')).lines;
    assert.ok(three.includes('X-ADDRESSBOOKSERVER-KIND:group'), three.join('\n'));
    assert.deepEqual(three.filter((l) => l.startsWith('X-ADDRESSBOOKSERVER-MEMBER')), ['X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:conv-4', 'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:conv-3']);
    assert.ok(three.some((l) => l.startsWith('N:')), 'vCard 3.0 requires N');
  });

  void it('converts a 4.0 card to 3.0: tel: URIs, PREF, BDAY without year, data: PHOTO', async () => {
    const { response, lines } = await get('c4', '3.0');
    assert.match(response.headers['Content-Type'] ?? '', /^text\/vcard/u);
    assert.equal(lines[1], 'VERSION:3.0');
    assert.ok(lines.includes('TEL;TYPE=CELL:+48-600-100-200'), lines.join('\n'));
    assert.ok(lines.some((l) => /^EMAIL;TYPE=[^:]*\bWORK\b[^:]*:l@example\.com$/u.test(l) && /PREF/u.test(l)), lines.join('\n'));
    assert.ok(lines.includes('BDAY;X-APPLE-OMIT-YEAR=1604:1604-07-04'), lines.join('\n'));
    const photo = lines.find((l) => l.startsWith('PHOTO'));
    assert.match(photo ?? '', /^PHOTO;(ENCODING=b;TYPE=PNG|TYPE=PNG;ENCODING=b):/iu);
    assert.equal(photo?.slice(photo.indexOf(':') + 1), PNG);
  });

  void it('honours the preference order (q-values) of the Accept header', async () => {
    const preferred = await h.send('GET', `${BOOK}c3.vcf`, { headers: { accept: 'text/vcard;version=3.0;q=0.5, text/vcard;version=4.0' } });
    assert.equal(contentLines(preferred.text)[1], 'VERSION:4.0');
    const other = await h.send('GET', `${BOOK}c4.vcf`, { headers: { accept: 'text/vcard;version=4.0;q=0.1, text/vcard;version=3.0;q=0.9' } });
    assert.equal(contentLines(other.text)[1], 'VERSION:3.0');
  });

  void it('keeps the stored bytes when no or an unknown version is asked, and lets clients update with the ETag they got', async () => {
    assert.equal((await h.send('GET', `${BOOK}c3.vcf`)).text, CARD3);
    assert.equal((await h.send('GET', `${BOOK}c3.vcf`, { headers: { accept: 'text/vcard' } })).text, CARD3);
    assert.equal((await h.send('GET', `${BOOK}c3.vcf`, { headers: { accept: '*/*' } })).text, CARD3);
    const converted = (await get('c3', '4.0')).response;
    const update = await h.send('PUT', `${BOOK}c3.vcf`, { headers: { ...TEXT_VCARD, 'if-match': converted.headers.ETag ?? '' }, body: converted.text });
    assert.equal(update.status, 204);
    assert.equal((await h.send('GET', `${BOOK}c3.vcf`)).text, converted.text);
  });
});

void describe('corpus vCards', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  void it('accepts real-world cards as sent (or with the UID clients add) and serves them byte for byte', async () => {
    const asSent = ['ez-vcard__John_Doe_EVOLUTION.vcf', 'ez-vcard__John_Doe_LOTUS_NOTES.vcf', 'ez-vcard__issue114.vcf', 'icaljs__escape_semicolon.vcf'];
    const needUid = [
      'comm-central__v3-binary-jpeg.vcf', 'comm-central__v3-uri-uri-png.vcf', 'comm-central__v4-uri-webp.vcf', 'comm-central__dos_vcard_addressbook.vcf',
      'ez-vcard__John_Doe_GMAIL.vcf', 'ez-vcard__John_Doe_IPHONE.vcf', 'ez-vcard__fullcontact.vcf', 'ez-vcard__gmail-single.vcf', 'ez-vcard__gmail-single2.vcf',
      'ez-vcard__rfc6350-example.vcf', 'ez-vcard__thunderbird-MoreFunctionsForAddressBook-extension.vcf', 'icaljs__vcard.vcf', 'icaljs__vcard3.vcf', 'icaljs__vcard_author.vcf',
      'py-vobject__simple_3_0_test.ics',
    ];
    const bodies: [string, Buffer][] = [
      ...asSent.map((file): [string, Buffer] => [file, corpusBytes(`vcard/${file}`)]),
      ...needUid.map((file): [string, Buffer] => [file, Buffer.from(withUid(corpusBytes(`vcard/${file}`).toString('utf8'), `urn:uuid:${file}`), 'utf8')]),
    ];
    for (const [n, [file, body]] of bodies.entries()) {
      const path = `${BOOK}corpus-${n}.vcf`;
      const put = await h.send('PUT', path, { headers: TEXT_VCARD, body });
      assert.equal(put.status, 201, `${file}: ${put.text}`);
      const got = await h.send('GET', path);
      assert.ok(bodyBytes(got).equals(body), file);
      for (const version of ['3.0', '4.0']) {
        const converted = await h.send('GET', path, { headers: { accept: `text/vcard; version=${version}` } });
        assert.equal(converted.status, 200, `${file} as ${version}`);
        assert.ok(contentLines(converted.text).includes(`VERSION:${version}`), `${file} as ${version}`);
      }
    }
  });

  void it('refuses the corpus cards without a UID and says so', async () => {
    const result = await refused(h, `${BOOK}no-uid.vcf`, corpusBytes('vcard/ez-vcard__John_Doe_GMAIL.vcf'));
    assert.deepEqual([result.status, result.conditions], [403, [carddav('valid-address-data')]]);
  });
});

void describe('address book PROPFIND listing', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  void it('lists cards with their ETags and content type at Depth 1', async () => {
    const put = await h.send('PUT', `${BOOK}listed.vcf`, { headers: TEXT_VCARD, body: vcard('4.0', 'UID:listed', 'FN:Listed') });
    const response = await h.send('PROPFIND', BOOK, { headers: { depth: '1', ...XML }, body: propfindBody(dav('getetag'), dav('getcontenttype'), dav('resourcetype')) });
    const card = parseMultistatus(response.text).find((r) => r.href === `${BOOK}listed.vcf`);
    assert.ok(card);
    assert.equal(textContent(card.props.get(dav('getetag'))!.element), put.headers.ETag);
    assert.match(textContent(card.props.get(dav('getcontenttype'))!.element), /^text\/vcard/u);
    assert.deepEqual(childElements(card.props.get(dav('resourcetype'))!.element), []);
  });
});
