// Reads of the PostgreSQL store: collections, objects, listings, calendar queries, properties and the
// change log. A single statement runs on the pool (it is its own snapshot); whatever must agree with
// the collection's counters (a listing, a sync page) runs in one REPEATABLE READ READ ONLY snapshot,
// and a listing shorter than its counters is refused (StoreInconsistent → 503), never served. The
// heavy reads of a collection's objects (queries, multiget) may be served by a read replica that is
// current for the collection (replica.ts). Must not import DAV or HTTP.
import { sql } from 'kysely';
import { COLLECTION_COLUMNS, OBJECT_COLUMNS, toCollection, toObject, type CollectionRow, type ObjectRow } from '../sqlite/rows.ts';
import type { ObjectQuery } from '../store.ts';
import { compareCodePoints } from '../name-order.ts';
import { OBJECT_TIME_BOX } from './migrations/0010-object-time-box.ts';
import { narrowingCondition } from '../search-narrowing.ts';
import type { Change, CollectionMembers, CollectionRecord, ObjectRecord, ObjectWithBody, PropertyTarget, SearchNarrowing, StoredProperty, SyncPage } from '../types.ts';
import { guardCount } from '../write-rules.ts';
import * as changeLog from './change-log.ts';
import type { PgStoreContext } from './store-context.ts';

export function getCollection(c: PgStoreContext, path: string): Promise<CollectionRecord | null> {
  return c.one(async (q) => {
    const row = await q.first(c.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('path', '=', path));
    return row === undefined ? null : toCollection(row);
  });
}

export function getCollectionById(c: PgStoreContext, id: number): Promise<CollectionRecord | null> {
  return c.one(async (q) => {
    const row = await q.first(c.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('id', '=', id));
    return row === undefined ? null : toCollection(row);
  });
}

export function getObject(c: PgStoreContext, collectionId: number, name: string): Promise<ObjectRecord | null> {
  return c.one(async (q) => {
    const row = await q.first(c.k.selectFrom('objects').select(OBJECT_COLUMNS).where('collection_id', '=', collectionId).where('name', '=', name));
    return row === undefined ? null : toObject(row);
  });
}

export function getObjectWithBody(c: PgStoreContext, collectionId: number, name: string): Promise<ObjectWithBody | null> {
  return c.one(async (q) => {
    const row = await q.first(c.k.selectFrom('objects').select([...OBJECT_COLUMNS, 'body']).where('collection_id', '=', collectionId).where('name', '=', name));
    return row === undefined ? null : { ...toObject(row), body: row.body };
  });
}

// The collection's columns as they are, the object's prefixed: one statement (one snapshot, one round trip).
const MEMBER_SELECT = [...COLLECTION_COLUMNS.map((column) => `c.${column}`), ...OBJECT_COLUMNS.map((column) => `o.${column} AS o_${column}`)].join(', ');

type MemberRow = CollectionRow & { [K in keyof ObjectRow as `o_${K}`]: ObjectRow[K] | null } & { o_body?: Uint8Array | null };

export function getMember(c: PgStoreContext, collectionPath: string, name: string, withBody: boolean): Promise<{ collection: CollectionRecord; object: ObjectRecord | ObjectWithBody | null } | null> {
  return c.one(async (q) => {
    const rows = await q.raw<MemberRow>(
      `SELECT ${MEMBER_SELECT}${withBody ? ', o.body AS o_body' : ''}
       FROM collections c LEFT JOIN objects o ON o.collection_id = c.id AND o.name = $2 WHERE c.path = $1`,
      [collectionPath, name],
    );
    const row = rows[0];
    if (row === undefined) return null;
    const collection = toCollection(row);
    if (row.o_id === null) return { collection, object: null };
    // Every object column is NOT NULL but uid and component, so a found object's row is complete.
    const object = toObject(Object.fromEntries(OBJECT_COLUMNS.map((column) => [column, row[`o_${column}`]])) as unknown as ObjectRow);
    return { collection, object: withBody && row.o_body != null ? { ...object, body: row.o_body } : object };
  });
}

export function listMembers(c: PgStoreContext, collectionId: number): Promise<CollectionMembers> {
  return c.snapshot(async (q) => {
    const parent = await q.first(c.k.selectFrom('collections').select(['object_count', 'child_count', 'path', 'sync_seq']).where('id', '=', collectionId));
    if (parent === undefined) return { collections: [], objects: [], syncSeq: 0 };
    const collections = (await q.all(c.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('parent_id', '=', collectionId).orderBy('path'))).map(toCollection);
    const objects = (await q.all(c.k.selectFrom('objects').select(OBJECT_COLUMNS).where('collection_id', '=', collectionId).orderBy('name'))).map(toObject);
    guardCount(parent.path, parent.object_count, objects.length, parent.child_count, collections.length);
    return { collections, objects, syncSeq: Number(parent.sync_seq) };
  });
}

export function getObjectsWithBodies(c: PgStoreContext, collectionId: number, names: readonly string[]): Promise<ObjectWithBody[]> {
  if (names.length === 0) return Promise.resolve([]);
  return c.collectionRead(collectionId, async (q) =>
    (
      await q.all(
        c.k
          .selectFrom('objects')
          .select([...OBJECT_COLUMNS, 'body'])
          .where('collection_id', '=', collectionId)
          // One array parameter instead of one parameter per name: a 1,000-href multiget is one statement.
          .where((eb) => eb('name', '=', eb.fn<string>('any', [eb.val([...names])]))),
      )
    ).map((row) => ({ ...toObject(row), body: row.body })),
  );
}

export function queryObjects(c: PgStoreContext, collectionId: number, filter: ObjectQuery): Promise<ObjectWithBody[]> {
  return c.collectionRead(collectionId, async (q) => {
    if (filter.mayBeBusy === true && (await c.busyIndexComplete(q))) {
      // Only objects that may add busy time (1) or are not known yet (-1), through object_busy's index.
      const { start, end } = filter.overlapping ?? { start: null, end: null };
      const where = ['b.collection_id = $1', 'b.busy IN (-1, 1)'];
      const parameters: unknown[] = [collectionId];
      if (start !== null) where.push(`(b.last_end IS NULL OR b.last_end >= $${parameters.push(start)})`);
      if (end !== null) where.push(`(b.first_start IS NULL OR b.first_start <= $${parameters.push(end)})`);
      if (filter.componentType !== undefined) where.push(`o.component = $${parameters.push(filter.componentType)}`);
      const rows = await q.raw<Parameters<typeof toObject>[0] & { body: Uint8Array }>(
        `SELECT ${OBJECT_COLUMNS.map((c) => `o.${c}`).join(', ')}, o.body FROM object_busy b JOIN objects o ON o.id = b.object_id
         WHERE ${where.join(' AND ')} ORDER BY o.name`,
        parameters,
      );
      return rows.map((row) => ({ ...toObject(row), body: row.body }));
    }
    let query = c.k.selectFrom('objects').select([...OBJECT_COLUMNS, 'body']).where('collection_id', '=', collectionId);
    if (filter.componentType !== undefined) query = query.where('component', '=', filter.componentType);
    const { start, end } = filter.overlapping ?? { start: null, end: null };
    if (filter.overlapping !== undefined && c.timeBoxIndex) {
      // Through the GiST index of 0010 (same expression); the exact bounds are tested as well.
      const box = sql`box(point(${collectionId}::float8, ${start ?? -1e15}::float8), point(${collectionId}::float8, ${end ?? 1e15}::float8))`;
      const boxed = query.where(sql<boolean>`${sql.raw(OBJECT_TIME_BOX)} && ${box}`)
        .where((eb) => eb.or([eb('last_end', 'is', null), eb('last_end', '>=', start ?? -1e15)]))
        .where((eb) => eb.or([eb('first_start', 'is', null), eb('first_start', '<=', end ?? 1e15)]));
      return keep((await q.all(boxed)).map((row) => ({ ...toObject(row), body: row.body })), filter.mayMatch);
    }
    if (end !== null) query = query.where((eb) => eb.or([eb('first_start', 'is', null), eb('first_start', '<=', end)]));
    // The unbounded ends are their own branch of one statement (one snapshot): with `last_end IS NULL
    // OR last_end >= start` the planner misjudged the rows and scanned the whole table (64-176 ms at
    // 100,000 objects against 2-4 ms through objects_time_range).
    const rows = await q.all(start === null ? query : query.where('last_end', '>=', start).unionAll(query.where('last_end', 'is', null)));
    return keep(rows.map((row) => ({ ...toObject(row), body: row.body })), filter.mayMatch);
  });
}

/** The caller's own prefilter, applied after the read (bodies included: one statement, one snapshot), in name order. */
function keep(objects: ObjectWithBody[], mayMatch: ObjectQuery['mayMatch']): ObjectWithBody[] {
  return (mayMatch === undefined ? objects : objects.filter((object) => mayMatch(object))).sort((a, b) => compareCodePoints(a.name, b.name));
}

export function listSearchIndex(c: PgStoreContext, collectionId: number, narrowing?: SearchNarrowing): Promise<{ name: string; searchIndex: string | null }[]> {
  return c.collectionRead(collectionId, async (q) => {
    let query = c.k.selectFrom('objects').select(['name', 'search_index']).where('collection_id', '=', collectionId);
    if (narrowing !== undefined) query = query.where(narrowingCondition(narrowing, 'strpos'));
    return (await q.all(query.orderBy('name'))).map((row) => ({ name: row.name, searchIndex: row.search_index }));
  });
}

export function getProperties(c: PgStoreContext, target: PropertyTarget): Promise<StoredProperty[]> {
  return c.one((q) => c.tree(q).readProperties(target));
}

export function changesSince(c: PgStoreContext, collectionId: number, afterSeq: number, limit: number): Promise<{ changes: Change[]; oldestSeq: number; currentSeq: number }> {
  return c.snapshot((q) => changeLog.changesSince(q, c.k, collectionId, afterSeq, limit));
}

export function syncChanges(c: PgStoreContext, collectionId: number, afterSeq: number, limit: number | null): Promise<SyncPage> {
  return c.snapshot((q) => changeLog.syncPage(q, c.k, collectionId, afterSeq, limit));
}
