// Store.searchIndexSince on PostgreSQL: the search indexes of an address book's members changed after
// a change position, found through the change log, or all of them when the log cannot tell. One
// REPEATABLE READ snapshot on the primary (a replica may lag the position it reports). Same answers
// as the SQLite store (../sqlite/search-index-delta.ts). Must not import DAV or HTTP.
import { NotFound } from '../errors.ts';
import { changedAndRemoved, type NamedMemberRow } from '../search-index-delta.ts';
import type { SearchIndexDelta } from '../store.ts';
import { guardCount } from '../write-rules.ts';
import type { PgStoreContext } from './store-context.ts';

export function searchIndexSince(c: PgStoreContext, collectionId: number, afterSeq: number): Promise<SearchIndexDelta> {
  return c.snapshot(async (q) => {
    const collection = await q.first(
      c.k.selectFrom('collections').select(['path', 'sync_seq', 'sync_horizon', 'object_count', 'created_at']).where('id', '=', collectionId),
    );
    if (collection === undefined) throw new NotFound(`collection ${collectionId} does not exist`);
    const base = { currentSeq: collection.sync_seq, createdAt: collection.created_at };
    // A position before the horizon may have lost a deletion to pruning; one past the current
    // position is not this collection's history (a restore): read everything.
    if (afterSeq <= 0 || afterSeq < collection.sync_horizon || afterSeq > collection.sync_seq) {
      const rows = await q.all(c.k.selectFrom('objects').select(['name', 'search_index']).where('collection_id', '=', collectionId));
      guardCount(collection.path, collection.object_count, rows.length, 0, 0);
      return { ...base, complete: true, members: rows.map((row) => ({ name: row.name, searchIndex: row.search_index })), removed: [] };
    }
    // Each member named by the log after the position once; whether it is there now, and its index,
    // come from the objects table of the same snapshot (pruning keeps every live member's latest entry).
    const rows = await q.raw<NamedMemberRow>(
      `SELECT m.member, o.id, o.search_index
       FROM (SELECT DISTINCT member FROM changes WHERE collection_id = $1 AND seq > $2 AND member <> '') m
       LEFT JOIN objects o ON o.collection_id = $1 AND o.name = m.member`,
      [collectionId, afterSeq],
    );
    return { ...base, complete: false, ...changedAndRemoved(rows) };
  });
}
