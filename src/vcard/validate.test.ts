// Tests for vCard acceptance (RFC 6352 §5.1, §6.3.2.1) and write-time indexing, including every file
// of the vCard corpus in test/fixtures/corpus/vcard.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { card, corpusFiles, corpusText, withUid } from './support.test.ts';
import { decodeCardBytes, InvalidAddressObject, parseCard, validateCard } from './validate.ts';
import type { AddressPrecondition } from './validate.ts';

type Outcome = 'accepted' | readonly [AddressPrecondition, string];

const NO_UID: Outcome = ['valid-address-data', 'vCard has no UID (RFC 6352 §5.1 requires one)'];
const V21: Outcome = ['supported-address-data', 'vCard 2.1 is not supported; export as vCard 3.0 or 4.0'];
const many = (n: number): Outcome => ['valid-address-data', `one vCard per resource (RFC 6352 §5.1): the body holds ${n} vCards`];
const BARE_BASE64 = (line: number): Outcome =>
  ['valid-address-data', `line ${line}: parameter "BASE64" of PHOTO has no value (a vCard 2.1 form; 3.0 and 4.0 write TYPE=… or ENCODING=b)`];

/**
 * Every corpus vCard: the outcome as sent, and for cards refused only for lacking a UID, the outcome
 * once a UID is added (null: not applicable).
 */
const CORPUS: readonly (readonly [file: string, asSent: Outcome, withUid: Outcome | null])[] = [
  ['comm-central__basic_vcard_addressbook.vcf', many(2), null],
  ['comm-central__dos_vcard_addressbook.vcf', NO_UID, 'accepted'], // CR CR LF line breaks
  ['comm-central__emptylines_vcard_addressbook.vcf', many(2), null],
  ['comm-central__export.vcf', many(2), null],
  ['comm-central__v3-binary-jpeg.vcf', NO_UID, 'accepted'],
  ['comm-central__v3-uri-uri-png.vcf', NO_UID, 'accepted'],
  ['comm-central__v4-uri-webp.vcf', NO_UID, 'accepted'],
  ['ez-vcard__John_Doe_ANDROID.vcf', many(6), null],
  ['ez-vcard__John_Doe_BLACK_BERRY.vcf', V21, null],
  ['ez-vcard__John_Doe_EVOLUTION.vcf', 'accepted', null],
  ['ez-vcard__John_Doe_GMAIL.vcf', NO_UID, 'accepted'],
  ['ez-vcard__John_Doe_IPHONE.vcf', NO_UID, 'accepted'], // mixed LF / CRLF
  ['ez-vcard__John_Doe_LOTUS_NOTES.vcf', 'accepted', null],
  ['ez-vcard__John_Doe_MAC_ADDRESS_BOOK.vcf', BARE_BASE64(27), null], // PHOTO;BASE64: in a 3.0 card
  ['ez-vcard__John_Doe_MS_OUTLOOK.vcf', V21, null],
  ['ez-vcard__fullcontact.vcf', NO_UID, 'accepted'],
  ['ez-vcard__gmail-list.vcf', many(3), null],
  ['ez-vcard__gmail-single.vcf', NO_UID, 'accepted'],
  ['ez-vcard__gmail-single2.vcf', NO_UID, 'accepted'],
  ['ez-vcard__issue114.vcf', 'accepted', null],
  ['ez-vcard__outlook-2003.vcf', V21, null],
  ['ez-vcard__outlook-2007.vcf', V21, null],
  ['ez-vcard__rfc2426-example.vcf', many(2), null],
  ['ez-vcard__rfc6350-example.vcf', NO_UID, 'accepted'],
  ['ez-vcard__thunderbird-MoreFunctionsForAddressBook-extension.vcf', NO_UID, 'accepted'],
  ['icaljs__escape_semicolon.vcf', 'accepted', null],
  ['icaljs__vcard.vcf', NO_UID, 'accepted'],
  ['icaljs__vcard3.vcf', NO_UID, 'accepted'],
  ['icaljs__vcard_author.vcf', NO_UID, 'accepted'],
  ['icaljs__vcard_grouped.vcf', NO_UID, ['valid-address-data', 'vCard has no FN (formatted name) property (RFC 6350 §6.2.1, RFC 2426 §3.1.1)']],
  ['libical__issue339.ics', V21, null],
  ['libical__test.vcf', many(2), null],
  ['py-vobject__simple_3_0_test.ics', NO_UID, 'accepted'],
  ['py-vobject__vcard_with_groups.ics', ['valid-address-data', 'vCard data must start with BEGIN:VCARD (line 1 is "home.begin:vcard")'], null],
  ['sabre-vobject__issue153.vcf', BARE_BASE64(5), null],
  ['sabre-vobject__issue64.vcf', V21, null],
];

function outcome(text: string): Outcome {
  try {
    validateCard(text);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof InvalidAddressObject)) throw error;
    return [error.precondition, error.message];
  }
}

function rejects(text: string, precondition: AddressPrecondition, message: string): void {
  assert.throws(() => validateCard(text), (error: unknown) => {
    assert.ok(error instanceof InvalidAddressObject);
    assert.equal(error.precondition, precondition);
    assert.equal(error.message, message);
    return true;
  });
}

void describe('the vCard corpus', () => {
  void it('lists every file of test/fixtures/corpus/vcard', () => {
    assert.deepEqual(CORPUS.map(([file]) => file), corpusFiles());
    assert.equal(corpusFiles().length, 36);
  });

  void it('adds a UID after VERSION keeping the line breaks (test helper)', () => {
    assert.equal(withUid('BEGIN:VCARD\r\r\nVERSION:3.0\r\r\nFN:A\r\r\nEND:VCARD\r\r\n', 'u'),
      'BEGIN:VCARD\r\r\nVERSION:3.0\r\r\nUID:u\r\r\nFN:A\r\r\nEND:VCARD\r\r\n');
  });

  for (const [file, asSent, afterUid] of CORPUS) {
    void it(`${file}: ${asSent === 'accepted' ? 'accepted' : asSent[1]}`, () => {
      const text = corpusText(file);
      assert.deepEqual(outcome(text), asSent);
      if (afterUid !== null) assert.deepEqual(outcome(withUid(text, `urn:uuid:${file}`)), afterUid);
    });
  }

  void it('extracts the index of a real card (Evolution, vCard 3.0)', () => {
    const { info } = validateCard(corpusText('ez-vcard__John_Doe_EVOLUTION.vcf'));
    assert.deepEqual(info, {
      uid: '477343c8e6bf375a9bac1f96a5000837',
      version: '3.0',
      kind: 'individual',
      index: {
        fn: ['Mr. John Richter, James Doe Sr.'],
        n: ['Doe;John;Richter, James;Mr.;Sr.'],
        email: ['john.doe@ibm.com'],
        tel: ['905-666-1234', '905-555-1234'],
        nickname: ['Johny'],
        org: ['IBM;Accounting;Dungeon'],
        uid: ['477343c8e6bf375a9bac1f96a5000837'],
      },
    });
  });

  void it('indexes a 4.0 card with grouped properties and tel: URIs as written', () => {
    const { info } = validateCard(withUid(corpusText('ez-vcard__rfc6350-example.vcf'), 'u-1'));
    assert.equal(info.version, '4.0');
    assert.deepEqual(info.index.tel, ['tel:+1-418-656-9254;ext=102', 'tel:+1-418-262-6501']);
    assert.deepEqual(info.index.n, ['Perreault;Simon;;;ing. jr,M.Sc.']);
    assert.deepEqual(info.index.org, ['Viagenie']);
  });
});

void describe('decodeCardBytes', () => {
  void it('decodes UTF-8 and drops a BOM', () => {
    assert.equal(decodeCardBytes(new Uint8Array([0xef, 0xbb, 0xbf, 0x46, 0xc3, 0xa9])), 'Fé');
  });

  void it('refuses invalid UTF-8 with valid-address-data', () => {
    assert.throws(() => decodeCardBytes(new Uint8Array([0x46, 0xe9, 0x0a])), (error: unknown) => {
      assert.ok(error instanceof InvalidAddressObject);
      assert.equal(error.precondition, 'valid-address-data');
      assert.equal(error.message, 'vCard data is not valid UTF-8 (RFC 6350 §3.1); convert it to UTF-8 first');
      return true;
    });
  });
});

void describe('validateCard', () => {
  void it('accepts a minimal 4.0 card and reports version, uid and kind', () => {
    const { card: parsed, info } = validateCard(card('4.0', 'UID:urn:uuid:1', 'FN:Ann'));
    assert.equal(parsed.name, 'vcard');
    assert.equal(info.uid, 'urn:uuid:1');
    assert.equal(info.version, '4.0');
    assert.equal(info.kind, 'individual');
  });

  void it('reads KIND (4.0) and X-ADDRESSBOOKSERVER-KIND (3.0, Apple groups)', () => {
    assert.equal(validateCard(card('4.0', 'UID:g1', 'FN:Team', 'KIND:group')).info.kind, 'group');
    assert.equal(validateCard(card('3.0', 'UID:g2', 'FN:Team', 'N:Team;;;;', 'X-ADDRESSBOOKSERVER-KIND:Group')).info.kind, 'group');
    assert.equal(validateCard(card('4.0', 'UID:o', 'FN:ACME', 'KIND:org')).info.kind, 'org');
  });

  void it('accepts LF line breaks, a BOM, lower-case names and VERSION after other properties', () => {
    const text = '\uFEFFbegin:vcard\nuid:x\nfn:Ann\nversion:4.0\nbday:--0415\nend:vcard\n';
    const { card: parsed, info } = validateCard(text);
    assert.equal(info.version, '4.0');
    // Parsed with the 4.0 rules although VERSION came third: BDAY is a 4.0 date-and-or-time.
    assert.deepEqual(parsed.getFirstProperty('bday')?.toJSON(), ['bday', {}, 'date-and-or-time', '--04-15']);
  });

  void it('accepts a card without FN when N has text, and indexes no FN', () => {
    const { info } = validateCard(card('3.0', 'UID:n1', 'N:Doe;Jane;;;'));
    assert.deepEqual(info.index.fn, []);
    assert.deepEqual(info.index.n, ['Doe;Jane;;;']);
  });

  void it('refuses a card without FN and with an empty N', () => {
    rejects(card('3.0', 'UID:n2', 'N:;;;;'), 'valid-address-data', 'vCard has no FN (formatted name) property (RFC 6350 §6.2.1, RFC 2426 §3.1.1)');
  });

  void it('refuses missing, repeated and empty UIDs', () => {
    rejects(card('4.0', 'FN:A'), 'valid-address-data', 'vCard has no UID (RFC 6352 §5.1 requires one)');
    rejects(card('4.0', 'UID:a', 'UID:b', 'FN:A'), 'valid-address-data', 'vCard has more than one UID');
    rejects(card('4.0', 'UID: ', 'FN:A'), 'valid-address-data', 'vCard has an empty UID');
  });

  void it('refuses VERSION 2.1 and unknown versions with supported-address-data', () => {
    rejects(card('3.0', 'UID:a', 'FN:A').replace('VERSION:3.0', 'VERSION:2.1'), 'supported-address-data', 'vCard 2.1 is not supported; export as vCard 3.0 or 4.0');
    rejects(card('3.0', 'UID:a', 'FN:A').replace('VERSION:3.0', 'VERSION:5.0'), 'supported-address-data', 'vCard version "5.0" is not supported; send vCard 3.0 or 4.0');
  });

  void it('refuses a missing or repeated VERSION', () => {
    rejects('BEGIN:VCARD\r\nUID:a\r\nFN:A\r\nEND:VCARD\r\n', 'valid-address-data', 'vCard has no VERSION property (RFC 6350 §6.7.9, RFC 2426 §3.6.9)');
    rejects(card('4.0', 'VERSION:4.0', 'UID:a', 'FN:A'), 'valid-address-data', 'vCard has more than one VERSION property');
  });

  void it('gives structural errors readable messages', () => {
    rejects('', 'valid-address-data', 'the body is empty; expected a vCard');
    rejects('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', 'valid-address-data', 'the body is iCalendar data, not a vCard');
    rejects('BEGIN:VCARD\r\nVERSION:4.0\r\nUID:a\r\nFN:A\r\n', 'valid-address-data', 'the vCard is not closed: END:VCARD is missing');
    rejects(`${card('4.0', 'UID:a', 'FN:A')}junk\r\n`, 'valid-address-data', 'unexpected content after END:VCARD on line 6: "junk"');
    rejects(card('4.0', 'UID:a', 'FN:A', 'BEGIN:VEVENT', 'END:VEVENT'), 'valid-address-data',
      'line 5: "BEGIN:VEVENT": a vCard cannot contain other components');
    rejects(card('4.0', 'UID:a', 'FN:A', 'NOTE'), 'valid-address-data', 'line 5 has no ":" before a value: "NOTE"');
    rejects(card('4.0', 'UID:a', 'FN:A', 'X_BAD/NAME:1'), 'valid-address-data', 'line 5 is not a vCard property: "X_BAD/NAME:1"');
    rejects(card('3.0', 'UID:a', 'FN:A', 'TEL;WORK;VOICE:1'), 'valid-address-data',
      'line 5: parameter "WORK" of TEL has no value (a vCard 2.1 form; 3.0 and 4.0 write TYPE=… or ENCODING=b)');
  });

  void it('turns ical.js parse errors into valid-address-data', () => {
    rejects(card('4.0', 'UID:a', 'FN:A', 'NOTE;=x:y'), 'valid-address-data', "vCard could not be parsed: Empty parameter name in ';=x:y'");
    rejects(card('4.0', 'UID:a', 'FN:A', 'NOTE;X-P="unterminated:x'), 'valid-address-data', 'line 5 has no ":" before a value: "NOTE;X-P="unterminated:x"');
  });

  void it('refuses control characters XML cannot carry', () => {
    rejects(card('4.0', 'UID:a', 'FN:A\u0001'), 'valid-address-data', 'vCard contains the control character U+0001 on line 4');
    rejects(card('4.0', 'UID:a', 'FN:A\uFFFF'), 'valid-address-data', 'vCard contains the control character U+FFFF on line 4');
  });

  void it('never throws anything but InvalidAddressObject for corpus-style garbage', () => {
    const inputs = ['BEGIN:VCARD', 'BEGIN:VCARD\nEND:VCARD', '\u0000', 'END:VCARD', 'BEGIN:VCARD\nVERSION:4.0\nFN;=x:y\nEND:VCARD',
      'BEGIN:VCARD\nVERSION:3.0\n:x\nEND:VCARD', 'BEGIN:VCARD\r\nVERSION:3.0\r\n \r\nEND:VCARD', 'BEGIN:VCARD\nVERSION:4.0\nUID:a\nFN:\ud800\nEND:VCARD'];
    for (const input of inputs) {
      assert.throws(() => validateCard(input), InvalidAddressObject, JSON.stringify(input));
    }
  });
});

void describe('parseCard', () => {
  void it('parses stored text the way validateCard does', () => {
    const text = corpusText('ez-vcard__issue114.vcf');
    assert.deepEqual(parseCard(text).toJSON(), validateCard(text).card.toJSON());
  });
});
