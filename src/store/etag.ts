// Strong entity tags derived from content, identical on every store backend. Imports nothing of ours.
import { createHash } from 'node:crypto';

/** A strong ETag (quoted) for a body: the same bytes always give the same tag. */
export function contentEtag(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}
