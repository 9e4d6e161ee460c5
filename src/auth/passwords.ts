// Password hashing, app-password generation and Basic credential parsing: pure helpers that know
// nothing of users or storage. Must not import src/http, src/dav, src/cli or protocol plugins.
import { hash, verify } from '@node-rs/argon2';
import type { Algorithm, Options } from '@node-rs/argon2';
import { randomInt } from 'node:crypto';

// The typings declare Algorithm as an ambient const enum, which isolated (erasable) compilation
// cannot inline, so the value is spelled out; 2 is Algorithm.Argon2id in @node-rs/argon2 v2.
const ARGON2ID: Algorithm = 2;

// OWASP's argon2id baseline: ~30 ms per hash, 19 MiB per concurrent verification.
const HASH_OPTIONS: Readonly<Options> = Object.freeze({ algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 });

// Unicode passwords are NFC-normalised before hashing and verifying because the same typed text
// arrives composed from one device and decomposed from another (macOS vs iOS keyboards); RFC 8265's
// OpaqueString profile, which RFC 7617 points to, asks for NFC too.
function canonicalPassword(plain: string): string {
  return plain.normalize('NFC');
}

/** An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for the password. */
export async function hashPassword(plain: string): Promise<string> {
  return hash(canonicalPassword(plain), HASH_OPTIONS);
}

/** True when the password matches the PHC hash; false, never a throw, when the hash is malformed. */
export async function verifyPassword(hashed: string, plain: string): Promise<boolean> {
  // A NULL/empty column or a foreign scheme is a disabled credential, not a server error.
  if (!hashed.startsWith('$argon2')) return false;
  try {
    return await verify(hashed, canonicalPassword(plain));
  } catch {
    return false;
  }
}

// Lowercase letters and digits without the look-alikes 0/o, 1/l/i: 31 symbols, so 16 of them carry
// 16·log2(31) ≈ 79.3 bits, and nothing needs the shift key on a phone keyboard.
export const APP_PASSWORD_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const APP_PASSWORD_GROUPS = 4;
const APP_PASSWORD_GROUP_LENGTH = 4;
const APP_PASSWORD_BODY = new RegExp(`^[${APP_PASSWORD_ALPHABET}]{${APP_PASSWORD_GROUPS * APP_PASSWORD_GROUP_LENGTH}}$`);

/** A fresh app password such as `k7dm-x2qa-9fse-hw4n`. Store only hashPassword() of it. */
export function generateAppPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < APP_PASSWORD_GROUPS; g++) {
    let group = '';
    for (let c = 0; c < APP_PASSWORD_GROUP_LENGTH; c++) group += APP_PASSWORD_ALPHABET.charAt(randomInt(APP_PASSWORD_ALPHABET.length));
    groups.push(group);
  }
  return groups.join('-');
}

/**
 * The canonical (generated) spelling of something a person typed as an app password, or null when
 * it cannot be one. Forgives what phones do to typed text: capitals, spaces, missing dashes.
 */
export function normalizeAppPassword(typed: string): string | null {
  const body = typed.replace(/[\s-]/g, '').toLowerCase();
  if (!APP_PASSWORD_BODY.test(body)) return null;
  const groups: string[] = [];
  for (let i = 0; i < body.length; i += APP_PASSWORD_GROUP_LENGTH) groups.push(body.slice(i, i + APP_PASSWORD_GROUP_LENGTH));
  return groups.join('-');
}

// token68 restricted to the base64 alphabet (RFC 7617 names base64, not base64url); padding optional
// because some clients drop it.
const BASIC_HEADER = /^[ \t]*basic[ \t]+([A-Za-z0-9+/]+)(={0,2})[ \t]*$/i;
// Fatal so invalid UTF-8 is rejected instead of mapped to U+FFFD, which would let different byte
// strings become the same password; BOM kept so decoding stays one-to-one.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// RFC 7617 §2 forbids control characters in the user-id; rejecting them also keeps user names
// that reach logs free of line breaks.
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** RFC 7617 Basic credentials, or null for anything absent or malformed. Never throws. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  if (header === undefined) return null;
  const match = BASIC_HEADER.exec(header);
  if (match === null) return null;
  const body = match[1] ?? '';
  const padding = match[2] ?? '';
  // Padded input must be whole quanta; unpadded input can never leave a single dangling character.
  if (padding.length > 0 ? (body.length + padding.length) % 4 !== 0 : body.length % 4 === 1) return null;
  let decoded: string;
  try {
    decoded = UTF8.decode(Buffer.from(body, 'base64'));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  const user = decoded.slice(0, colon);
  if (hasControlCharacter(user)) return null;
  return { user, password: decoded.slice(colon + 1) };
}
