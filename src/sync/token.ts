// Sync tokens (RFC 6578 §3.2: a URI): they carry the store epoch, the collection and a position in its
// change log, so a token from another collection, another store or before a restore is recognised
// as invalid instead of producing a wrong diff. Imports nothing of ours.

const PREFIX = 'http://almanac.invalid/sync/';

export interface SyncPosition {
  readonly epoch: string;
  readonly collectionId: number;
  readonly seq: number;
}

export function formatSyncToken(position: SyncPosition): string {
  return `${PREFIX}${position.epoch}/${position.collectionId}/${position.seq}`;
}

/** The position a token names, or null when it is not one of ours. */
export function parseSyncToken(token: string): SyncPosition | null {
  if (!token.startsWith(PREFIX)) return null;
  const match = /^([0-9a-f-]{36})\/(\d{1,15})\/(\d{1,15})$/u.exec(token.slice(PREFIX.length));
  if (match === null) return null;
  return { epoch: match[1] ?? '', collectionId: Number(match[2]), seq: Number(match[3]) };
}
