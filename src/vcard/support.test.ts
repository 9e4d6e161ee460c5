// Shared helpers of the src/vcard tests, no tests of its own (the .test.ts name keeps it out of the
// build): reading the vCard corpus under test/fixtures (see its README for sources and licences) and
// building small cards.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCardBytes } from './validate.ts';

export const CORPUS_DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'corpus', 'vcard');

export function corpusFiles(): string[] {
  return readdirSync(CORPUS_DIR).sort();
}

export function corpusText(file: string): string {
  return decodeCardBytes(readFileSync(join(CORPUS_DIR, file)));
}

/** The card with `UID:<uid>` added after its VERSION line, keeping the file's line breaks. */
export function withUid(text: string, uid: string): string {
  return text.replace(/^(VERSION:[^\r\n]*)(\r*\n)/im, `$1$2UID:${uid}$2`);
}

/** A vCard from its property lines, CRLF-terminated. */
export function card(version: '3.0' | '4.0', ...lines: string[]): string {
  return ['BEGIN:VCARD', `VERSION:${version}`, ...lines, 'END:VCARD', ''].join('\r\n');
}
