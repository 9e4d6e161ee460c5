// Tests for address-data selection and version conversion (RFC 6352 §10.4).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { renderAddressData } from './address-data.ts';
import type { AddressDataRequest } from './address-data.ts';
import { convertCard } from './convert.ts';
import { card, corpusText, withUid } from './support.test.ts';
import { parseCard, validateCard } from './validate.ts';

const JOHN = card('3.0', 'UID:john', 'FN:John Doe', 'N:Doe;John;;;', 'EMAIL;TYPE=INTERNET,HOME:john@home.example',
  'item1.EMAIL;TYPE=INTERNET,WORK:john.doe@work.example', 'item1.X-ABLabel:Office', 'TEL;TYPE=CELL,pref:+1 555 0100', 'NOTE:hello');

function render(text: string, request: AddressDataRequest): string {
  return renderAddressData(text, validateCard(text).card, request);
}

const lines = (...l: string[]): string => ['BEGIN:VCARD', ...l, 'END:VCARD', ''].join('\r\n');

void describe('renderAddressData', () => {
  void it('returns the stored bytes when everything is selected and no version is asked', () => {
    const stored = withUid(corpusText('ez-vcard__John_Doe_IPHONE.vcf'), 'iphone'); // mixed LF / CRLF
    assert.equal(render(stored, { allProps: true }), stored);
    assert.equal(render(stored, { allProps: false }), stored);
    assert.equal(render(stored, { allProps: false, props: [] }), stored);
    assert.equal(render(stored, { allProps: true, version: '3.0' }), stored);
  });

  void it('converts when another version is asked', () => {
    const { card: parsed } = validateCard(JOHN);
    assert.equal(render(JOHN, { allProps: true, version: '4.0' }), convertCard(JOHN, parsed, '4.0'));
  });

  void it('keeps only the named properties, plus VERSION and UID, grouped ones included', () => {
    assert.equal(render(JOHN, { allProps: false, props: [{ name: 'FN', novalue: false }, { name: 'email', novalue: false }] }),
      lines('VERSION:3.0', 'UID:john', 'FN:John Doe', 'EMAIL;TYPE=INTERNET,HOME:john@home.example', 'item1.EMAIL;TYPE=INTERNET,WORK:john.doe@work.example'));
  });

  void it('drops the values of novalue properties unless the same name is also asked with its value', () => {
    assert.equal(render(JOHN, { allProps: false, props: [{ name: 'EMAIL', novalue: true }, { name: 'UID', novalue: true }] }),
      lines('VERSION:3.0', 'UID:', 'EMAIL;TYPE=INTERNET,HOME:', 'item1.EMAIL;TYPE=INTERNET,WORK:'));
    assert.equal(render(JOHN, { allProps: false, props: [{ name: 'TEL', novalue: true }, { name: 'TEL', novalue: false }] }),
      lines('VERSION:3.0', 'UID:john', 'TEL;TYPE=CELL,pref:+1 555 0100'));
  });

  void it('selects one group when the name has one', () => {
    assert.equal(render(JOHN, { allProps: false, props: [{ name: 'item1.EMAIL', novalue: false }, { name: 'ITEM1.X-ABLABEL', novalue: false }] }),
      lines('VERSION:3.0', 'UID:john', 'item1.EMAIL;TYPE=INTERNET,WORK:john.doe@work.example', 'item1.X-ABLabel:Office'));
  });

  void it('converts first, then selects', () => {
    assert.equal(render(JOHN, { allProps: false, version: '4.0', props: [{ name: 'TEL', novalue: false }] }),
      lines('VERSION:4.0', 'UID:john', 'TEL;TYPE=cell;PREF=1:+1 555 0100'));
  });

  void it('re-folds long selected lines at 75 octets with CRLF', () => {
    const stored = withUid(corpusText('comm-central__v3-binary-jpeg.vcf'), 'jpeg'); // LF, folded at 75 + LF
    const out = render(stored, { allProps: false, props: [{ name: 'PHOTO', novalue: false }] });
    const physical = out.split('\r\n');
    assert.deepEqual(physical.slice(0, 3), ['BEGIN:VCARD', 'VERSION:3.0', 'UID:jpeg']);
    assert.ok(physical[3]?.startsWith('PHOTO:/9j/4AAQSkZJRg'));
    assert.ok(physical.every((l) => Buffer.byteLength(l) <= 75));
    assert.equal(physical.at(-2), 'END:VCARD');
    assert.deepEqual(parseCard(out).getFirstPropertyValue('photo'), validateCard(stored).card.getFirstPropertyValue('photo'));
  });
});
