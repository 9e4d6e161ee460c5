// Tests for vCard 3.0 ↔ 4.0 conversion (RFC 6352 §10.4 version, RFC 6350 Appendix A): exact output
// for Apple-style 3.0 and RFC 6350-style 4.0 cards, and round trips over the corpus.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import ICAL from 'ical.js';
import { convertCard } from './convert.ts';
import { jProps, paramNames, paramValues, propGroup, propName, propertyText } from './jcard.ts';
import { card, corpusFiles, corpusText, withUid } from './support.test.ts';
import { InvalidAddressObject, parseCard, validateCard } from './validate.ts';

const lines = (...l: string[]): string => ['BEGIN:VCARD', ...l, 'END:VCARD', ''].join('\r\n');

function convert(text: string, to: '3.0' | '4.0'): string {
  return convertCard(text, validateCard(text).card, to);
}

const APPLE = card('3.0', 'PRODID:-//Apple Inc.//iOS 17.0//EN', 'N:Doe;John;;;', 'FN:John Doe', 'ORG:ACME\\, Inc.;Sales',
  'item1.EMAIL;type=INTERNET;type=HOME;type=pref:john@example.com', 'item1.X-ABLabel:_$!<Home>!$_', 'EMAIL;TYPE=INTERNET,WORK:jd@acme.example',
  'TEL;type=CELL;type=VOICE;type=pref:+1 555 0100', 'TEL;TYPE=WORK,VOICE:(555) 0101', 'ADR;TYPE=HOME:;;1 Main St;Springfield;;12345;USA',
  'LABEL;TYPE=HOME:1 Main St\\nSpringfield', 'BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15', 'X-ANNIVERSARY:--06-01',
  'PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRg==', 'X-GENDER:F', 'GEO:37.386013;-122.082932', 'TZ:-05:00',
  'X-CUSTOM;X-PARAM=a:some\\, value', 'UID:apple-1');

const APPLE_AS_40 = lines('VERSION:4.0', 'PRODID:-//Apple Inc.//iOS 17.0//EN', 'N:Doe;John;;;', 'FN:John Doe', 'ORG:ACME\\, Inc.;Sales',
  'item1.EMAIL;TYPE=internet,home;PREF=1:john@example.com', 'item1.X-ABLABEL:_$!<Home>!$_', 'EMAIL;TYPE=internet,work:jd@acme.example',
  'TEL;TYPE=cell,voice;PREF=1:+1 555 0100', 'TEL;TYPE=work,voice:(555) 0101',
  'ADR;TYPE=home;LABEL=1 Main St^nSpringfield:;;1 Main St;Springfield;;12345;U', ' SA',
  'BDAY:--0415', 'ANNIVERSARY:--0601', 'PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRg==', 'GENDER:F', 'GEO:geo:37.386013,-122.082932',
  'TZ;VALUE=utc-offset:-0500', 'X-CUSTOM;X-PARAM=a:some\\, value', 'UID:apple-1');

const RFC6350 = card('4.0', 'UID:urn:uuid:c-2', 'FN:Simon', 'N:Perreault;Simon;;;',
  'TEL;VALUE=uri;TYPE="work,voice";PREF=1:tel:+1-418-656-9254;ext=102', 'TEL;VALUE=uri;PREF=2:tel:+1-418-262-6501',
  'PHOTO;MEDIATYPE=image/png:https://example.com/s.png', 'BDAY:19700101', 'ANNIVERSARY:20090808T1430-0500', 'GENDER:M;boy',
  'ADR;TYPE=work;LABEL="Suite 1, 2875 Laurier":;Suite 1;2875 Laurier;Quebec;QC;G1V 2M2;Canada',
  'SOUND:data:audio/basic;base64,AAEC', 'KEY:data:application/pgp-keys;base64,mQENBF==', 'LANG;PREF=1:fr',
  'EMAIL;TYPE=home;PREF=3:s@example.com', 'NOTE:line one\\nline two\\, with comma; and semicolon', 'CATEGORIES:a\\,b,c',
  'item2.URL:https://example.com/a,b', 'item2.X-ABLabel:blog');

const RFC6350_AS_30 = lines('VERSION:3.0', 'UID:urn:uuid:c-2', 'FN:Simon', 'N:Perreault;Simon;;;',
  'TEL;TYPE=WORK,VOICE,PREF:+1-418-656-9254 ext. 102', 'TEL:+1-418-262-6501', 'PHOTO;TYPE=PNG;VALUE=uri:https://example.com/s.png',
  'BDAY:1970-01-01', 'X-ANNIVERSARY:2009-08-08T14:30:00-05:00', 'X-GENDER:M;boy', 'ADR;TYPE=WORK:;Suite 1;2875 Laurier;Quebec;QC;G1V 2M2;Canada',
  'LABEL;TYPE=WORK:Suite 1\\, 2875 Laurier', 'SOUND;ENCODING=b;TYPE=BASIC:AAEC', 'KEY;ENCODING=b;TYPE=PGP:mQENBF==', 'LANG;TYPE=PREF:fr',
  'EMAIL;TYPE=HOME:s@example.com', 'NOTE:line one\\nline two\\, with comma\\; and semicolon', 'CATEGORIES:a\\,b,c',
  'item2.URL:https://example.com/a,b', 'item2.X-ABLABEL:blog');

void describe('convertCard', () => {
  void it('returns the stored text unchanged when it already has the target version', () => {
    const text = corpusText('ez-vcard__John_Doe_LOTUS_NOTES.vcf');
    assert.equal(convert(text, '3.0'), text);
    const four = withUid(corpusText('comm-central__v4-uri-webp.vcf'), 'w');
    assert.equal(convert(four, '4.0'), four);
  });

  void it('converts an Apple 3.0 card to 4.0: TYPE/PREF, groups, LABEL, dates without year, PHOTO, GENDER, GEO, TZ', () => {
    assert.equal(convert(APPLE, '4.0'), APPLE_AS_40);
  });

  void it('converts it back to the same 3.0 content (X-ANNIVERSARY --06-01 in Apple form)', () => {
    assert.equal(convert(APPLE_AS_40, '3.0'), lines('VERSION:3.0', 'PRODID:-//Apple Inc.//iOS 17.0//EN', 'N:Doe;John;;;', 'FN:John Doe',
      'ORG:ACME\\, Inc.;Sales', 'item1.EMAIL;TYPE=INTERNET,HOME,PREF:john@example.com', 'item1.X-ABLABEL:_$!<Home>!$_',
      'EMAIL;TYPE=INTERNET,WORK:jd@acme.example', 'TEL;TYPE=CELL,VOICE,PREF:+1 555 0100', 'TEL;TYPE=WORK,VOICE:(555) 0101',
      'ADR;TYPE=HOME:;;1 Main St;Springfield;;12345;USA', 'LABEL;TYPE=HOME:1 Main St\\nSpringfield', 'BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15',
      'X-ANNIVERSARY;X-APPLE-OMIT-YEAR=1604:1604-06-01', 'PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRg==', 'X-GENDER:F',
      'GEO:37.386013;-122.082932', 'TZ:-05:00', 'X-CUSTOM;X-PARAM=a:some\\, value', 'UID:apple-1'));
  });

  void it('converts an RFC 6350 card to 3.0: tel: URIs, MEDIATYPE, data: URIs, ADR LABEL, PREF=1 only, escaping', () => {
    assert.equal(convert(RFC6350, '3.0'), RFC6350_AS_30);
  });

  void it('converts that 3.0 card back to 4.0 keeping types, media and values', () => {
    assert.equal(convert(RFC6350_AS_30, '4.0'), lines('VERSION:4.0', 'UID:urn:uuid:c-2', 'FN:Simon', 'N:Perreault;Simon;;;',
      'TEL;TYPE=work,voice;PREF=1:+1-418-656-9254 ext. 102', 'TEL:+1-418-262-6501', 'PHOTO;MEDIATYPE=image/png:https://example.com/s.png',
      'BDAY:19700101', 'ANNIVERSARY:20090808T143000-0500', 'GENDER:M;boy',
      'ADR;TYPE=work;LABEL="Suite 1, 2875 Laurier":;Suite 1;2875 Laurier;Quebec;QC', ' ;G1V 2M2;Canada',
      'SOUND:data:audio/basic;base64,AAEC', 'KEY:data:application/pgp-keys;base64,mQENBF==', 'LANG;PREF=1:fr', 'EMAIL;TYPE=home:s@example.com',
      'NOTE:line one\\nline two\\, with comma; and semicolon', 'CATEGORIES:a\\,b,c', 'item2.URL:https://example.com/a,b', 'item2.X-ABLABEL:blog'));
  });

  void it('maps a 4.0 group (KIND + MEMBER) to Apple\'s 3.0 form and back', () => {
    const group = card('4.0', 'UID:urn:uuid:g-1', 'KIND:group', 'FN:Project team', 'MEMBER:urn:uuid:m-1', 'MEMBER:urn:uuid:m-2');
    const apple = convert(group, '3.0');
    assert.equal(apple, lines('VERSION:3.0', 'UID:urn:uuid:g-1', 'X-ADDRESSBOOKSERVER-KIND:group', 'FN:Project team', 'N:;;;;',
      'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:m-1', 'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:m-2'));
    assert.equal(validateCard(apple).info.kind, 'group');
    assert.equal(convert(apple, '4.0'), lines('VERSION:4.0', 'UID:urn:uuid:g-1', 'KIND:group', 'FN:Project team', 'N:;;;;',
      'MEMBER:urn:uuid:m-1', 'MEMBER:urn:uuid:m-2'));
  });

  void it('maps an Apple 3.0 group to 4.0 and does not repeat KIND a 4.0 card also carries as X- property', () => {
    const apple = card('3.0', 'N:Friends;;;;', 'FN:Friends', 'X-ADDRESSBOOKSERVER-KIND:group', 'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:a', 'UID:grp');
    assert.equal(convert(apple, '4.0'), lines('VERSION:4.0', 'N:Friends;;;;', 'FN:Friends', 'KIND:group', 'MEMBER:urn:uuid:a', 'UID:grp'));
    const both = card('4.0', 'UID:grp', 'FN:Friends', 'KIND:group', 'X-ADDRESSBOOKSERVER-KIND:group');
    assert.equal(convert(both, '3.0'), lines('VERSION:3.0', 'UID:grp', 'FN:Friends', 'N:;;;;', 'X-ADDRESSBOOKSERVER-KIND:group'));
  });

  void it('reads BDAY without year in the Google 3.0 form (--04-15) and as 4.0 text', () => {
    assert.match(convert(card('3.0', 'UID:b', 'FN:B', 'BDAY:--04-15'), '4.0'), /\r\nBDAY:--0415\r\n/);
    assert.match(convert(card('4.0', 'UID:b', 'FN:B', 'BDAY;VALUE=text:circa 1800'), '3.0'), /\r\nBDAY;VALUE=text:circa 1800\r\n/);
    assert.match(convert(card('3.0', 'UID:b', 'FN:B', 'BDAY;X-APPLE-OMIT-YEAR=1604:1980-04-15'), '4.0'), /\r\nBDAY;X-APPLE-OMIT-YEAR=1604:19800415\r\n/);
    assert.match(convert(card('4.0', 'UID:b', 'FN:B', 'item1.X-ABDATE;VALUE=date-and-or-time:--0415'), '3.0'),
      /\r\nitem1\.X-ABDATE;X-APPLE-OMIT-YEAR=1604;VALUE=date:1604-04-15\r\n/);
    assert.match(convert(card('3.0', 'UID:b', 'FN:B', 'BDAY:1953-10-15T23:10:00Z'), '4.0'), /\r\nBDAY:19531015T231000Z\r\n/);
    assert.match(convert(card('4.0', 'UID:b', 'FN:B', 'BDAY:19531015T231000Z'), '3.0'), /\r\nBDAY;VALUE=date-time:1953-10-15T23:10:00Z\r\n/);
  });

  void it('builds FN from N for 4.0 when the 3.0 card has none', () => {
    assert.equal(convert(card('3.0', 'UID:n', 'N:Doe;Jane;Q.;Dr.;PhD'), '4.0'),
      lines('VERSION:4.0', 'FN:Dr. Jane Q. Doe PhD', 'UID:n', 'N:Doe;Jane;Q.;Dr.;PhD'));
  });

  void it('folds at 75 octets without splitting UTF-8 sequences, with CRLF only, and the result parses back', () => {
    const note = `${'é'.repeat(50)}${'€'.repeat(40)}${'😀'.repeat(30)}`;
    const out = convert(card('3.0', 'UID:f', 'FN:F', `NOTE:${note}`), '4.0');
    assert.doesNotMatch(out, /\r(?!\n)|(?<!\r)\n/);
    const noteLines = out.split('\r\n').filter((l) => l.startsWith('NOTE:') || l.startsWith(' '));
    assert.deepEqual(noteLines.map((l) => Buffer.byteLength(l)), [75, 73, 73, 75, 53]);
    for (const line of out.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, line);
    assert.equal(parseCard(out).getFirstPropertyValue('note'), note);
  });

  void it('keeps PHOTO bytes through 3.0 → 4.0 → 3.0 (corpus JPEGs) and 4.0 → 3.0 → 4.0 (WebP)', () => {
    const photoBytes = (text: string): Buffer => {
      const value = String(parseCard(text).getFirstPropertyValue('photo'));
      return Buffer.from(value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value, 'base64');
    };
    for (const file of ['comm-central__v3-binary-jpeg.vcf', 'ez-vcard__John_Doe_IPHONE.vcf', 'ez-vcard__John_Doe_LOTUS_NOTES.vcf']) {
      const text = corpusText(file).includes('UID:') ? corpusText(file) : withUid(corpusText(file), file);
      const original = photoBytes(text);
      const four = convert(text, '4.0');
      assert.match(four, /\r\nPHOTO:data:image\/jpeg;base64,\/9j\//);
      assert.deepEqual(photoBytes(four), original, file);
      const back = convert(four, '3.0');
      assert.match(back, /\r\nPHOTO;ENCODING=b;TYPE=JPEG:\/9j\//);
      assert.deepEqual(photoBytes(back), original, file);
    }
    const webp = withUid(corpusText('comm-central__v4-uri-webp.vcf'), 'webp');
    const three = convert(webp, '3.0');
    assert.match(three, /\r\nPHOTO;ENCODING=b;TYPE=WEBP:UklGR/);
    assert.deepEqual(photoBytes(three), photoBytes(webp));
    assert.deepEqual(photoBytes(convert(three, '4.0')), photoBytes(webp));
    assert.ok(photoBytes(webp).length > 8000);
  });

  void it('sniffs the media type of a 3.0 PHOTO without TYPE and keeps 3.0 photo URLs as URLs', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]).toString('base64');
    assert.match(convert(card('3.0', 'UID:p', 'FN:P', `PHOTO;ENCODING=b:${png}`), '4.0'), new RegExp(`\\r\\nPHOTO:data:image/png;base64,${png}\\r\\n`));
    assert.match(convert(card('3.0', 'UID:p', 'FN:P', 'PHOTO;VALUE=uri;TYPE=GIF:http://example.com/p.gif'), '4.0'),
      /\r\nPHOTO;MEDIATYPE=image\/gif:http:\/\/example.com\/p.gif\r\n/);
    assert.match(convert(card('3.0', 'UID:p', 'FN:P', 'PHOTO:https://example.com/p.jpg'), '4.0'), /\r\nPHOTO:https:\/\/example.com\/p.jpg\r\n/);
  });

  void it('throws for a card that did not come from validateCard/parseCard', () => {
    const bare = new ICAL.Component(['vcard', [['fn', {}, 'text', 'x']], []]);
    assert.throws(() => convertCard('', bare, '3.0'), { message: 'cardVersion: the card was not produced by validateCard/parseCard' });
    assert.throws(() => parseCard(''), InvalidAddressObject);
  });
});

/** Each property as "group.name;params:text", media properties left out (compared byte-wise above). */
function summary(text: string): string[] {
  return jProps(parseCard(text))
    .filter((p) => !['version', 'photo', 'logo', 'sound', 'key'].includes(propName(p)))
    .map((p) => {
      const params = paramNames(p[1]).filter((n) => n !== 'charset')
        .map((n) => `${n}=${paramValues(p[1], n).map((v) => v.toUpperCase()).sort().join(',')}`).sort().join(';');
      return `${propGroup(p) ?? ''}.${propName(p)};${params}:${propertyText(p)}`;
    })
    .sort();
}

const URL_UNESCAPED = (group: string, params: string, url: string): [string, string] =>
  [`${group}.url;${params}:${url.replace('://', '\\://')}`, `${group}.url;${params}:${url}`];

/**
 * Every difference a round trip (to the other version and back) makes to a corpus card, as
 * [lost, gained]; cards not listed come back identical. All are documented conversions: URLs
 * unescaped, structured values padded, missing N added for 3.0, 4.0-only detail (tel: URI, PREF=2)
 * dropped, dates rewritten in full precision.
 */
const ROUND_TRIP: Readonly<Record<string, readonly (readonly [string | null, string | null])[]>> = {
  'comm-central__v3-binary-jpeg.vcf': [[null, '.n;:;;;;']],
  'comm-central__v3-uri-uri-png.vcf': [[null, '.n;:;;;;']],
  'comm-central__v4-uri-webp.vcf': [[null, '.n;:;;;;']],
  'ez-vcard__John_Doe_GMAIL.vcf': [URL_UNESCAPED('', 'type=WORK', 'http://www.ibm.com')],
  'ez-vcard__John_Doe_IPHONE.vcf': [URL_UNESCAPED('item5', 'type=PREF', 'http://www.ibm.com')],
  'ez-vcard__gmail-single.vcf': [URL_UNESCAPED('item3', '', 'http://TheProfile.com')],
  'ez-vcard__gmail-single2.vcf': [
    URL_UNESCAPED('', '', 'http://www.example1.com'), URL_UNESCAPED('', 'type=WORK', 'http://www.example5.com'),
    URL_UNESCAPED('item5', '', 'http://www.example2.com'), URL_UNESCAPED('item6', '', 'http://www.example3.com'),
    URL_UNESCAPED('item7', '', 'http://www.example4.com'), URL_UNESCAPED('item8', '', 'http://www.example6.com'),
  ],
  'ez-vcard__rfc6350-example.vcf': [
    ['.anniversary;:2009-08-08T14:30-05:00', '.anniversary;:2009-08-08T14:30:00-05:00'], ['.lang;pref=2:en', '.lang;:en'],
    ['.tel;pref=1;type=VOICE,WORK:tel:+1-418-656-9254;ext=102', '.tel;pref=1;type=VOICE,WORK:+1-418-656-9254 ext. 102'],
    ['.tel;type=CELL,TEXT,VIDEO,VOICE,WORK:tel:+1-418-262-6501', '.tel;type=CELL,TEXT,VIDEO,VOICE,WORK:+1-418-262-6501'],
    ['.tz;:-0500', '.tz;:-05:00'],
  ],
  'ez-vcard__thunderbird-MoreFunctionsForAddressBook-extension.vcf': [['.n;:Doe;John', '.n;:Doe;John;;;']],
  'icaljs__escape_semicolon.vcf': [
    [null, '.n;:;;;;'], ['.x-anniversary;:20190220T000035', '.x-anniversary;:2019-02-20T00:00:35'],
    ['item1.x-abdate;:20190220T000035', 'item1.x-abdate;:2019-02-20T00:00:35'],
  ],
  'icaljs__vcard.vcf': [['.tel;type=HOME:tel:+33-01-23-45-67', '.tel;type=HOME:+33-01-23-45-67']],
  'icaljs__vcard3.vcf': [
    ['.adr;type=DOM,HOME,PARCEL,POSTAL:;;123 Main Street;Any Town;CA;91921-1234', '.adr;type=DOM,HOME,PARCEL,POSTAL:;;123 Main Street;Any Town;CA;91921-1234;'],
    ['.rev;:1997-11-15', '.rev;:1997-11-15T00:00:00Z'],
  ],
  'icaljs__vcard_author.vcf': [
    ['.anniversary;:2009-08-08T14:30-05:00', '.anniversary;:2009-08-08T14:30:00-05:00'], ['.lang;pref=2:en', '.lang;:en'],
    ['.tel;pref=1;type=VOICE,WORK:tel:+1-418-656-9254;ext=102', '.tel;pref=1;type=VOICE,WORK:+1-418-656-9254 ext. 102'],
    ['.tel;type=CELL,TEXT,VIDEO,VOICE,WORK:tel:+1-418-262-6501', '.tel;type=CELL,TEXT,VIDEO,VOICE,WORK:+1-418-262-6501'],
  ],
  'py-vobject__simple_3_0_test.ics': [['.n;:Knudson;Daffy Duck (with Bugs Bunny and Mr. Pluto)', '.n;:Knudson;Daffy Duck (with Bugs Bunny and Mr. Pluto);;;']],
};

void describe('round trips over the corpus', () => {
  const acceptable = corpusFiles().flatMap((file) => {
    const text = corpusText(file);
    for (const candidate of [text, withUid(text, `urn:uuid:${file}`)]) {
      try {
        return [{ file, text: candidate, info: validateCard(candidate).info }];
      } catch {
        // refused: see validate.test.ts
      }
    }
    return [];
  });

  void it('covers the 19 corpus cards that are (or, given a UID, would be) accepted', () => {
    assert.equal(acceptable.length, 19);
  });

  for (const { file, text, info } of acceptable) {
    const other = info.version === '3.0' ? '4.0' : '3.0';
    void it(`${file}: ${info.version} → ${other} → ${info.version}`, () => {
      const there = convert(text, other);
      assert.equal(validateCard(there).info.uid, info.uid);
      assert.equal(validateCard(there).info.version, other);
      assert.ok(there.split('\r\n').every((l) => Buffer.byteLength(l) <= 75 && !l.includes('\n') && !l.includes('\r')));
      const back = convert(there, info.version);
      const before = summary(text);
      const after = summary(back);
      const expected = ROUND_TRIP[file] ?? [];
      assert.deepEqual(before.filter((l) => !after.includes(l)), expected.flatMap(([lost]) => (lost === null ? [] : [lost])).sort());
      assert.deepEqual(after.filter((l) => !before.includes(l)), expected.flatMap(([, gained]) => (gained === null ? [] : [gained])).sort());
    });
  }
});
