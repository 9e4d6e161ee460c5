// Tests for the value-level pieces of conversion and writing: dates, tel: URIs, data: URIs, media
// types, text escaping, parameter encoding (RFC 6868) and folding.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { foldLine, lineName, unfoldLines, valueSeparator } from './content-lines.ts';
import {
  dateTo30, dateTo40, formatFromMediaType, fromDataUri, geoFromUri, mediaTypeFromFormat, sniffMediaType, telUriToText,
} from './convert-values.ts';
import { escapeStructured, escapeText, writeProp } from './write.ts';

void describe('dates (RFC 6350 §4.3, RFC 2426 §3.1.5)', () => {
  void it('writes vCard 4.0 basic forms, dropping an omitted year', () => {
    assert.equal(dateTo40('1996-04-15'), '19960415');
    assert.equal(dateTo40('--04-15'), '--0415');
    assert.equal(dateTo40('1604-04-15', '1604'), '--0415');
    assert.equal(dateTo40('1980-04-15', '1604'), '19800415');
    assert.equal(dateTo40('1953-10-15T23:10:00Z'), '19531015T231000Z');
    assert.equal(dateTo40('2009-08-08T14:30-05:00'), '20090808T1430-0500');
    assert.equal(dateTo40('1985-04'), '1985-04');
    assert.equal(dateTo40('---15'), '---15');
    assert.equal(dateTo40('T10:22'), 'T1022');
    assert.equal(dateTo40('circa 1800'), null);
    assert.equal(dateTo40(''), null);
  });

  void it('writes vCard 3.0 extended forms, with Apple\'s year 1604 for dates without year', () => {
    assert.deepEqual(dateTo30('19960415'), { value: '1996-04-15', omitYear: false, hasTime: false });
    assert.deepEqual(dateTo30('--0415'), { value: '1604-04-15', omitYear: true, hasTime: false });
    assert.deepEqual(dateTo30('19531015T231000Z'), { value: '1953-10-15T23:10:00Z', omitYear: false, hasTime: true });
    assert.deepEqual(dateTo30('20090808T1430-0500'), { value: '2009-08-08T14:30:00-05:00', omitYear: false, hasTime: true });
    assert.equal(dateTo30('1985'), null);
    assert.equal(dateTo30('---15'), null);
    assert.equal(dateTo30('T1022'), null);
  });
});

void describe('URIs and media', () => {
  void it('turns tel: URIs into text (RFC 3966)', () => {
    assert.equal(telUriToText('tel:+1-418-656-9254;ext=102'), '+1-418-656-9254 ext. 102');
    assert.equal(telUriToText('TEL:+33%2001'), '+33 01');
    assert.equal(telUriToText('tel:7042;phone-context=example.com'), '7042');
    assert.equal(telUriToText('sip:alice@example.com'), 'sip:alice@example.com');
    assert.equal(telUriToText('tel:%E0%A4%A'), '%E0%A4%A');
  });

  void it('reads data: URIs, base64 or percent-encoded (RFC 2397)', () => {
    assert.deepEqual(fromDataUri('data:image/JPEG;base64,/9j/4A=='), { mediaType: 'image/jpeg', base64: '/9j/4A==' });
    assert.deepEqual(fromDataUri('data:text/plain;charset=utf-8,A%20%C3%A9%'), { mediaType: 'text/plain', base64: Buffer.from('A é%').toString('base64') });
    assert.deepEqual(fromDataUri('data:,x'), { mediaType: 'application/octet-stream', base64: 'eA==' });
    assert.equal(fromDataUri('https://example.com/a.png'), null);
  });

  void it('maps 3.0 TYPE formats and media types both ways', () => {
    assert.equal(mediaTypeFromFormat('photo', 'JPG'), 'image/jpeg');
    assert.equal(mediaTypeFromFormat('logo', 'image/svg+xml'), 'image/svg+xml');
    assert.equal(mediaTypeFromFormat('sound', 'BASIC'), 'audio/basic');
    assert.equal(mediaTypeFromFormat('key', 'PGP'), 'application/pgp-keys');
    assert.equal(mediaTypeFromFormat('key', 'X509'), 'application/pkix-cert');
    assert.equal(formatFromMediaType('image/jpeg'), 'JPEG');
    assert.equal(formatFromMediaType('application/pgp-keys'), 'PGP');
    assert.equal(formatFromMediaType('application/octet-stream'), undefined);
  });

  void it('sniffs picture types from their first bytes', () => {
    const b64 = (...bytes: number[]): string => Buffer.from(bytes).toString('base64');
    assert.equal(sniffMediaType(b64(0xff, 0xd8, 0xff, 0xe0)), 'image/jpeg');
    assert.equal(sniffMediaType(b64(0x89, 0x50, 0x4e, 0x47)), 'image/png');
    assert.equal(sniffMediaType(b64(0x47, 0x49, 0x46, 0x38)), 'image/gif');
    assert.equal(sniffMediaType(Buffer.from('RIFF\0\0\0\0WEBPVP8 ').toString('base64')), 'image/webp');
    assert.equal(sniffMediaType(b64(1, 2, 3)), 'application/octet-stream');
  });

  void it('reads geo: URIs (RFC 5870)', () => {
    assert.deepEqual(geoFromUri('geo:46.772673,-71.282945;u=10'), ['46.772673', '-71.282945']);
    assert.equal(geoFromUri('http://example.com'), null);
  });
});

void describe('writing', () => {
  void it('escapes text per version (RFC 2426 §4, RFC 6350 §3.4)', () => {
    assert.equal(escapeText('a\\b,c;d\ne\r\nf', '3.0', false), 'a\\\\b\\,c\\;d\\ne\\nf');
    assert.equal(escapeText('a\\b,c;d\ne', '4.0', false), 'a\\\\b\\,c;d\\ne');
    assert.equal(escapeStructured(['Doe', ['Richter', 'James'], 'a;b'], '4.0', 5), 'Doe;Richter,James;a\\;b;;');
  });

  void it('quotes parameter values with , ; : and caret-encodes ^ " and newlines (RFC 6868)', () => {
    assert.equal(writeProp({ group: 'item1', name: 'x-test', params: [['x-p', ['say "hi"\nthen ^ go: now']], ['type', ['work', 'voice']]], value: 'v' }),
      'item1.X-TEST;X-P="say ^\'hi^\'^nthen ^^ go: now";TYPE=work,voice:v');
    assert.equal(writeProp({ group: undefined, name: 'note', params: [['x-empty', []]], value: '' }), 'NOTE:');
  });

  void it('folds at 75 octets with CRLF + space and splits lines back', () => {
    const line = `NOTE:${'x'.repeat(80)}`;
    assert.equal(foldLine(line), `NOTE:${'x'.repeat(70)}\r\n ${'x'.repeat(10)}`);
    assert.equal(foldLine('FN:short'), 'FN:short');
    assert.deepEqual(unfoldLines(`BEGIN:VCARD\r\n${foldLine(line)}\r\n\r\n\tZ\nEND:VCARD`), [
      { text: 'BEGIN:VCARD', lineNumber: 1 }, { text: `${line}Z`, lineNumber: 2 }, { text: 'END:VCARD', lineNumber: 6 },
    ]);
  });

  void it('finds the name, group and value separator of a content line', () => {
    assert.deepEqual(lineName('item1.email;TYPE=work:a@b'), { group: 'item1', name: 'EMAIL' });
    assert.equal(valueSeparator('X-A;X-P="a:b":c:d'), 13);
    assert.equal(valueSeparator('NOTE'), -1);
  });
});
