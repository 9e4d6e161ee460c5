// Reading and pruning the per-collection change log on PostgreSQL, each called inside a transaction
// opened by PostgresStore (a REPEATABLE READ snapshot for reads, a short write transaction per prune
// batch). Same answers as the SQLite store. Must not import DAV or HTTP.
import type { Kysely } from 'kysely';
import { NotFound, StoreInconsistent } from '../errors.ts';
import { COLLECTION_COLUMNS, lastSegment, OBJECT_COLUMNS, toCollection, toObject } from '../sqlite/rows.ts';
import type { Change, CollectionRecord, ObjectRecord, SyncPage } from '../types.ts';
import type { PostgresDatabase } from './schema.ts';
import type { PgSession } from './session.ts';
import { guardCount } from '../write-rules.ts';

export async function changesSince(
  q: PgSession,
  k: Kysely<PostgresDatabase>,
  collectionId: number,
  afterSeq: number,
  limit: number,
): Promise<{ changes: Change[]; oldestSeq: number; currentSeq: number }> {
  const collection = await q.first(k.selectFrom('collections').select('sync_seq').where('id', '=', collectionId));
  const oldest = await q.first(k.selectFrom('changes').select((eb) => eb.fn.min<number>('seq').as('oldest')).where('collection_id', '=', collectionId));
  const changes = await q.all(
    k.selectFrom('changes').select(['seq', 'member', 'deleted']).where('collection_id', '=', collectionId).where('seq', '>', afterSeq).orderBy('seq').limit(limit),
  );
  return { changes, oldestSeq: oldest?.oldest ?? 0, currentSeq: collection?.sync_seq ?? 0 };
}

export async function syncPage(
  q: PgSession,
  k: Kysely<PostgresDatabase>,
  collectionId: number,
  afterSeq: number,
  limit: number | null,
): Promise<SyncPage> {
  const collection = await q.first(
    k.selectFrom('collections').select(['path', 'sync_seq', 'sync_horizon', 'object_count', 'child_count']).where('id', '=', collectionId),
  );
  if (collection === undefined) throw new NotFound(`collection ${collectionId} does not exist`);
  // Each member's latest change after the position, in change order (LIMIT NULL = no limit).
  const rows = await q.raw<{ member: string; seq: number; deleted: boolean }>(
    `SELECT member, seq, deleted FROM (
       SELECT DISTINCT ON (member) member, seq, deleted FROM changes
       WHERE collection_id = $1 AND seq > $2 AND member <> ''
       ORDER BY member, seq DESC) latest
     ORDER BY seq LIMIT $3`,
    [collectionId, afterSeq, limit === null ? null : limit + 1],
  );
  const truncated = limit !== null && rows.length > limit;
  const changes = truncated ? rows.slice(0, limit) : rows;
  const live = changes.filter((c) => !c.deleted).map((c) => c.member);
  const objects = new Map<string, ObjectRecord>();
  const collections = new Map<string, CollectionRecord>();
  if (live.length > 0) {
    // One array parameter instead of one parameter per name.
    const found = await q.all(k.selectFrom('objects').select(OBJECT_COLUMNS).where('collection_id', '=', collectionId).where((eb) => eb('name', '=', eb.fn<string>('any', [eb.val(live)]))));
    for (const row of found) objects.set(row.name, toObject(row));
    // Only homes have child collections; a calendar or address book needs no such lookup.
    if (collection.child_count > 0) {
      const paths = live.map((name) => `${collection.path}${name}/`);
      const children = await q.all(k.selectFrom('collections').select(COLLECTION_COLUMNS).where((eb) => eb('path', '=', eb.fn<string>('any', [eb.val(paths)]))));
      for (const row of children) collections.set(lastSegment(row.path), toCollection(row));
    }
  }
  if (objects.size + collections.size !== live.length) {
    throw new StoreInconsistent(`change log of ${collection.path} names members that do not exist`);
  }
  if (afterSeq === 0 && !truncated) guardCount(collection.path, collection.object_count, objects.size, collection.child_count, collections.size);
  return { currentSeq: collection.sync_seq, horizon: collection.sync_horizon, changes, truncated, objects, collections };
}

/**
 * Removes one batch of old entries (superseded ones and tombstones) and moves each collection's sync
 * horizon past any tombstone that was a member's last word. Rows another node's pruner is already
 * removing are skipped, not waited for. Returns how many entries went.
 */
export async function pruneBatch(q: PgSession, olderThan: number, batchSize: number): Promise<number> {
  const victims = await q.raw<{ collection_id: number; seq: number; deleted: boolean; latest: boolean }>(
    `SELECT c.collection_id, c.seq, c.deleted,
            NOT EXISTS (SELECT 1 FROM changes later WHERE later.collection_id = c.collection_id
                        AND later.member = c.member AND later.seq > c.seq) AS latest
     FROM changes c
     WHERE c.changed_at < $1
       AND (c.deleted OR c.member = '' OR EXISTS (SELECT 1 FROM changes later
            WHERE later.collection_id = c.collection_id AND later.member = c.member AND later.seq > c.seq))
     LIMIT $2
     FOR UPDATE OF c SKIP LOCKED`,
    [olderThan, batchSize],
  );
  const horizons = new Map<number, number>();
  for (const victim of victims) {
    if (victim.deleted && victim.latest) horizons.set(victim.collection_id, Math.max(horizons.get(victim.collection_id) ?? 0, victim.seq));
  }
  if (victims.length > 0) {
    await q.raw('DELETE FROM changes WHERE (collection_id, seq) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))', [
      victims.map((v) => v.collection_id),
      victims.map((v) => v.seq),
    ]);
  }
  // Newest collection first, the order writers lock collections in.
  for (const [collectionId, seq] of [...horizons].sort((a, b) => b[0] - a[0])) {
    await q.raw('UPDATE collections SET sync_horizon = GREATEST(sync_horizon, $2) WHERE id = $1', [collectionId, seq]);
  }
  return victims.length;
}
