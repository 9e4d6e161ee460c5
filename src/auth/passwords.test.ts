// Tests for password hashing, app-password generation and Basic parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_PASSWORD_ALPHABET, generateAppPassword, hashPassword, normalizeAppPassword, parseBasicAuth, verifyPassword } from './passwords.ts';

const basic = (raw: string, scheme = 'Basic'): string => `${scheme} ${Buffer.from(raw, 'utf8').toString('base64')}`;

void test('hash/verify round trip with OWASP argon2id parameters', async () => {
  const hashed = await hashPassword('correct horse');
  assert.match(hashed, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyPassword(hashed, 'correct horse'), true);
  assert.equal(await verifyPassword(hashed, 'correct horsE'), false);
});

void test('a password typed decomposed verifies against one set composed', async () => {
  const hashed = await hashPassword('caf\u00e9');
  assert.equal(await verifyPassword(hashed, 'cafe\u0301'), true);
});

void test('malformed hashes verify false instead of throwing', async () => {
  for (const bad of ['', 'x', '$2b$10$abcdefghijklmnopqrstuu', '$argon2id$garbage', '$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB']) {
    assert.equal(await verifyPassword(bad, 'pw'), false, bad);
  }
});

void test('parseBasicAuth accepts well-formed credentials', () => {
  assert.deepEqual(parseBasicAuth(basic('alice:secret')), { user: 'alice', password: 'secret' });
  assert.deepEqual(parseBasicAuth(basic('alice:se:cr:et')), { user: 'alice', password: 'se:cr:et' });
  assert.deepEqual(parseBasicAuth(basic('alice:')), { user: 'alice', password: '' });
  assert.deepEqual(parseBasicAuth(basic('alice:secret', 'basic')), { user: 'alice', password: 'secret' });
  assert.deepEqual(parseBasicAuth(basic('alice:secret', 'BASIC')), { user: 'alice', password: 'secret' });
  assert.deepEqual(parseBasicAuth(basic('jürgen:pässwörd€🔑')), { user: 'jürgen', password: 'pässwörd€🔑' });
  // Unpadded base64 ('a:b' → 'YTpi' is whole; 'ab:c' → 'YWI6Yw==').
  assert.deepEqual(parseBasicAuth('Basic YWI6Yw'), { user: 'ab', password: 'c' });
  assert.deepEqual(parseBasicAuth('Basic   YWI6Yw==  '), { user: 'ab', password: 'c' });
});

void test('parseBasicAuth rejects anything malformed without throwing', () => {
  const rejected: (string | undefined)[] = [
    undefined,
    '',
    'Basic',
    'Basic ',
    'Bearer YWxpY2U6c2VjcmV0',
    'BasicYWxpY2U6c2VjcmV0',
    'Basic !!!not-base64!!!',
    'Basic YWxpY2U6c2VjcmV0 extra',
    'Basic YWxpY2U6c2VjcmV0=', // padding that does not complete a quantum
    'Basic YWxpY2U6c2VjcmV0===',
    'Basic Y', // a single dangling character cannot encode anything
    'Basic YWxp_2U6', // base64url is not what RFC 7617 specifies
    basic('alicesecret'), // no colon
    basic(':secret'), // empty user
    basic('al\nice:secret'), // control character in the user-id
    `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`, // invalid UTF-8
  ];
  for (const header of rejected) assert.equal(parseBasicAuth(header), null, String(header));
});

void test('app passwords are four groups of four unambiguous characters', () => {
  assert.doesNotMatch(APP_PASSWORD_ALPHABET, /[0o1li]/);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const pw = generateAppPassword();
    assert.match(pw, new RegExp(`^[${APP_PASSWORD_ALPHABET}]{4}(-[${APP_PASSWORD_ALPHABET}]{4}){3}$`));
    seen.add(pw);
  }
  assert.equal(seen.size, 200);
});

void test('normalizeAppPassword forgives capitals, spaces and missing dashes', () => {
  assert.equal(normalizeAppPassword('abcd-efgh-jkmn-pqrs'), 'abcd-efgh-jkmn-pqrs');
  assert.equal(normalizeAppPassword('ABCD efgh JKMNpqrs'), 'abcd-efgh-jkmn-pqrs');
  assert.equal(normalizeAppPassword(' abcdefghjkmnpqrs '), 'abcd-efgh-jkmn-pqrs');
  assert.equal(normalizeAppPassword('abcd-efgh-jkmn-pqr'), null); // too short
  assert.equal(normalizeAppPassword('abcd-efgh-jkmn-pqr0'), null); // 0 is not in the alphabet
  assert.equal(normalizeAppPassword('correct horse battery'), null);
});
