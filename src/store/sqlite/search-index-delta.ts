// Store.searchIndexSince on SQLite: the search indexes of an address book's members changed after a
// change position, found through the change log, or all of them when the log cannot tell. Runs inside
// the read transaction SqliteStore opens (one snapshot). Must not import DAV or HTTP.
import type { Kysely } from 'kysely';
import { NotFound } from '../errors.ts';
import { changedAndRemoved, type NamedMemberRow } from '../search-index-delta.ts';
import type { SearchIndexDelta } from '../store.ts';
import { guardCount } from '../write-rules.ts';
import type { SqliteRunner } from './query.ts';
import type { SqliteDatabase } from './schema.ts';

export function searchIndexSince(q: SqliteRunner, k: Kysely<SqliteDatabase>, collectionId: number, afterSeq: number): SearchIndexDelta {
  const collection = q.first(
    k.selectFrom('collections').select(['path', 'sync_seq', 'sync_horizon', 'object_count', 'created_at']).where('id', '=', collectionId),
  );
  if (collection === undefined) throw new NotFound(`collection ${collectionId} does not exist`);
  const base = { currentSeq: collection.sync_seq, createdAt: collection.created_at };
  // A position before the horizon may have lost a deletion to pruning; one past the current position
  // is not this collection's history (a restore, a reused id): read everything.
  if (afterSeq <= 0 || afterSeq < collection.sync_horizon || afterSeq > collection.sync_seq) {
    const rows = q.all(k.selectFrom('objects').select(['name', 'search_index']).where('collection_id', '=', collectionId));
    guardCount(collection.path, collection.object_count, rows.length, 0, 0);
    return { ...base, complete: true, members: rows.map((row) => ({ name: row.name, searchIndex: row.search_index })), removed: [] };
  }
  // Each member named by the log after the position once; whether it is there now, and its index,
  // come from the objects table of the same snapshot (pruning keeps every live member's latest entry).
  const rows = q.rawAll<NamedMemberRow>(
    `SELECT m.member, o.id, o.search_index
     FROM (SELECT DISTINCT member FROM changes WHERE collection_id = ? AND seq > ? AND member <> '') m
     LEFT JOIN objects o ON o.collection_id = ? AND o.name = m.member`,
    [collectionId, afterSeq, collectionId],
  );
  return { ...base, complete: false, ...changedAndRemoved(rows) };
}
