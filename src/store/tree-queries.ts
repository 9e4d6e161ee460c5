// The statements both tree writers run, built once: SQLite's writer runs them synchronously inside
// its transaction, PostgreSQL's awaits them under its row locks, and Kysely compiles each for its own
// dialect. Only what is the same on both lives here; what differs (the change log's flag, locking,
// the busy index) stays in each store's writer. Imports only the shared row shapes and schema types.
import { sql, type Kysely } from 'kysely';
import type { PutObjectInput } from './store.ts';
import type { CollectionKind, PropertyTarget } from './types.ts';
import { contentEtag } from './etag.ts';
import { COLLECTION_COLUMNS, OBJECT_COLUMNS } from './sqlite/rows.ts';
import type { SqliteDatabase } from './sqlite/schema.ts';
import { escapeLike, type Deltas } from './write-rules.ts';

/** The tables both stores define alike (PostgreSQL's schema types are derived from SQLite's). */
export type TreeTables = Pick<SqliteDatabase, 'collections' | 'objects' | 'collection_properties' | 'object_properties'>;
type K = Kysely<TreeTables>;

export function collectionById(k: K, id: number) {
  return k.selectFrom('collections').select(COLLECTION_COLUMNS).where('id', '=', id);
}

export function collectionAtPath(k: K, path: string) {
  return k.selectFrom('collections').select(COLLECTION_COLUMNS).where('path', '=', path);
}

export function objectByName(k: K, collectionId: number, name: string) {
  return k.selectFrom('objects').select(OBJECT_COLUMNS).where('collection_id', '=', collectionId).where('name', '=', name);
}

/** The next change-log position of a collection, with its counters adjusted; returns what the parent needs. */
export function bumpCollection(k: K, collectionId: number, deltas: Deltas, now: number) {
  return k
    .updateTable('collections')
    .set((eb) => ({
      sync_seq: eb('sync_seq', '+', 1),
      object_count: eb('object_count', '+', deltas.objects ?? 0),
      child_count: eb('child_count', '+', deltas.children ?? 0),
      bytes_used: eb('bytes_used', '+', deltas.bytes ?? 0),
      updated_at: now,
    }))
    .where('id', '=', collectionId)
    .returning(['sync_seq', 'parent_id', 'path']);
}

/** A change inside a collection is a change of its parent (the home), so clients watching it notice. */
export function bumpParent(k: K, parentId: number, now: number) {
  return k
    .updateTable('collections')
    .set((eb) => ({ sync_seq: eb('sync_seq', '+', 1), updated_at: now }))
    .where('id', '=', parentId)
    .returning(['sync_seq']);
}

/** Another object of the collection with this UID. */
export function uidClash(k: K, collectionId: number, uid: string, ownName: string) {
  return k.selectFrom('objects').select('name').where('collection_id', '=', collectionId).where('uid', '=', uid).where('name', '!=', ownName);
}

export function insertCollection(k: K, input: { ownerId: number; parentId: number | null; path: string; kind: CollectionKind }, now: number) {
  return k
    .insertInto('collections')
    .values({ owner_id: input.ownerId, parent_id: input.parentId, path: input.path, kind: input.kind, created_at: now, updated_at: now })
    .returning(COLLECTION_COLUMNS);
}

/** Rewrites the path of a moved collection and of everything below it. */
export function movePaths(k: K, fromPath: string, toPath: string) {
  return (
    k
      .updateTable('collections')
      .set({ path: sql<string>`${toPath} || substr(path, ${fromPath.length + 1})` })
      // ESCAPE makes '%' and '_' in folder names match literally.
      .where(sql<boolean>`path LIKE ${`${escapeLike(fromPath)}%`} ESCAPE '\\'`)
  );
}

/** Inserts a new object or replaces the body and metadata of the one there (`currentId`). */
export function writeObject(k: K, input: PutObjectInput, currentId: number | undefined, now: number) {
  const metadata = input.metadata ?? {};
  const values = {
    content_type: input.contentType,
    body: input.body,
    etag: contentEtag(input.body),
    size: input.body.byteLength,
    uid: metadata.uid ?? null,
    component: metadata.component ?? null,
    first_start: metadata.firstStart ?? null,
    last_end: metadata.lastEnd ?? null,
    search_index: metadata.searchIndex ?? null,
    modified_at: now,
  };
  if (currentId === undefined) {
    return k
      .insertInto('objects')
      .values({ ...values, collection_id: input.collectionId, name: input.name, created_at: now })
      .returning(OBJECT_COLUMNS);
  }
  return k.updateTable('objects').set(values).where('id', '=', currentId).returning(OBJECT_COLUMNS);
}

/** What a COPY carries over from the source object. */
export function objectToCopy(k: K, collectionId: number, name: string) {
  return k.selectFrom('objects').select([...OBJECT_COLUMNS, 'body', 'first_start', 'last_end', 'search_index']).where('collection_id', '=', collectionId).where('name', '=', name);
}

export function readProperties(k: K, target: PropertyTarget) {
  if (target.kind === 'collection') {
    return k.selectFrom('collection_properties').select(['name', 'xml']).where('collection_id', '=', target.collectionId).orderBy('name');
  }
  return k.selectFrom('object_properties').select(['name', 'xml']).where('object_id', '=', target.objectId).orderBy('name');
}

/** One PROPPATCH operation: set (insert or replace) or remove. */
export function writeProperty(k: K, target: PropertyTarget, name: string, xml: string | undefined) {
  if (target.kind === 'collection') {
    if (xml === undefined) return k.deleteFrom('collection_properties').where('collection_id', '=', target.collectionId).where('name', '=', name);
    return k
      .insertInto('collection_properties')
      .values({ collection_id: target.collectionId, name, xml })
      .onConflict((oc) => oc.columns(['collection_id', 'name']).doUpdateSet({ xml }));
  }
  if (xml === undefined) return k.deleteFrom('object_properties').where('object_id', '=', target.objectId).where('name', '=', name);
  return k
    .insertInto('object_properties')
    .values({ object_id: target.objectId, name, xml })
    .onConflict((oc) => oc.columns(['object_id', 'name']).doUpdateSet({ xml }));
}
