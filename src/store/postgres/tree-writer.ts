// Writes on the collection/object tree, always inside one PostgreSQL transaction opened by
// PostgresStore. Correct with many nodes on one database: every write first locks the rows of the
// collections it changes (SELECT … FOR UPDATE, in a fixed order), so checks such as "the name is free",
// "the ETag still matches" and "no other object has this UID" hold until commit, and each change-log
// position is taken under that lock (gapless, unique per collection; the primary key and the unique
// indexes back this up). Same rules as the SQLite tree writer. Must not import DAV or HTTP.
import type { Kysely } from 'kysely';
import { AlreadyExists, ConflictingPath, NotFound, UidConflict } from '../errors.ts';
import type { Destination, NewCollection, PutObjectInput, WriteExpectation } from '../store.ts';
import type { CollectionKind, CollectionRecord, ObjectRecord, PropertyOperation, PropertyTarget, StoredProperty } from '../types.ts';
import { COLLECTION_COLUMNS, lastSegment, toCollection, toObject, type CollectionRow } from '../sqlite/rows.ts';
import type { PostgresDatabase } from './schema.ts';
import type { PgSession } from './session.ts';
import { busyValue } from '../busy-value.ts';
import * as tq from '../tree-queries.ts';
import { checkExpectation, type Deltas } from '../write-rules.ts';

export class PgTreeWriter {
  private readonly q: PgSession;
  private readonly k: Kysely<PostgresDatabase>;
  private readonly now: () => number;

  /**
   * object_busy exists (migration 0005): the write path keeps each object's row itself — written with
   * the object, moved with it, removed with it, its collection or its owner — so 0009 can drop the
   * trigger of 0005 that did this for the previous release's writes.
   */
  private readonly busyTable: boolean;

  constructor(q: PgSession, k: Kysely<PostgresDatabase>, now: () => number, busyTable = false) {
    this.busyTable = busyTable;
    this.q = q;
    this.k = k;
    this.now = now;
  }

  // ---- helpers --------------------------------------------------------------------------------

  /**
   * Locks the collections a write changes, newest first: a collection is normally newer than its
   * parent, and recordChange locks a collection before its parent, so writers take locks in one
   * order. The rare exception (a folder moved under a newer one) can deadlock; PostgreSQL detects
   * that and the store retries the transaction.
   */
  async lock(...ids: number[]): Promise<void> {
    const unique = [...new Set(ids)].sort((a, b) => b - a);
    for (const id of unique) {
      await this.q.raw('SELECT 1 FROM collections WHERE id = $1 FOR UPDATE', [id]);
    }
  }

  private async collection(id: number): Promise<CollectionRow> {
    const row = await this.q.first(tq.collectionById(this.k, id));
    if (row === undefined) throw new NotFound(`collection ${id} does not exist`);
    return row;
  }

  private collectionAt(path: string): Promise<CollectionRow | undefined> {
    return this.q.first(tq.collectionAtPath(this.k, path));
  }

  private async objectIn(collectionId: number, name: string): Promise<ObjectRecord | undefined> {
    const row = await this.q.first(tq.objectByName(this.k, collectionId, name));
    return row === undefined ? undefined : toObject(row);
  }

  /** Appends one change to a collection's log, adjusts its counters, and marks the parent changed. */
  private async recordChange(collectionId: number, member: string, deleted: boolean, deltas: Deltas = {}): Promise<void> {
    const now = this.now();
    const updated = await this.q.first(tq.bumpCollection(this.k, collectionId, deltas, now));
    if (updated === undefined) throw new NotFound(`collection ${collectionId} does not exist`);
    await this.q.run(this.k.insertInto('changes').values({ collection_id: collectionId, seq: updated.sync_seq, member, deleted, changed_at: now }));
    if (updated.parent_id !== null) {
      const parent = await this.q.first(tq.bumpParent(this.k, updated.parent_id, now));
      if (parent !== undefined) {
        await this.q.run(
          this.k.insertInto('changes').values({ collection_id: updated.parent_id, seq: parent.sync_seq, member: lastSegment(updated.path), deleted: false, changed_at: now }),
        );
      }
    }
  }

  private async clearDestination(to: Destination, parent: CollectionRow): Promise<boolean> {
    const object = await this.objectIn(to.parentId, to.name);
    const collection = await this.collectionAt(`${parent.path}${to.name}/`);
    if (object === undefined && collection === undefined) return true;
    if (!to.replace) throw new AlreadyExists(`${parent.path}${to.name} exists`);
    if (object !== undefined) await this.deleteObject(to.parentId, to.name, undefined);
    if (collection !== undefined) await this.deleteCollection(collection.id);
    return false;
  }

  private async ensureNameFree(parent: CollectionRow, name: string): Promise<void> {
    if ((await this.objectIn(parent.id, name)) !== undefined || (await this.collectionAt(`${parent.path}${name}/`)) !== undefined) {
      throw new AlreadyExists(`${parent.path}${name} exists`);
    }
  }

  private async checkUid(collectionId: number, uid: string | null | undefined, ownName: string): Promise<void> {
    if (uid === null || uid === undefined) return;
    const clash = await this.q.first(tq.uidClash(this.k, collectionId, uid, ownName));
    if (clash !== undefined) {
      const collection = await this.collection(collectionId);
      throw new UidConflict(clash.name, collection.path, collection.kind);
    }
  }

  // ---- collections ----------------------------------------------------------------------------

  async insertCollection(input: { ownerId: number; parentId: number | null; path: string; kind: CollectionKind }): Promise<CollectionRecord> {
    const row = await this.q.first(tq.insertCollection(this.k, input, this.now()));
    if (row === undefined) throw new Error('insert returned no row');
    return toCollection(row);
  }

  async createCollection(input: NewCollection): Promise<CollectionRecord> {
    await this.lock(input.parentId);
    const parent = await this.collection(input.parentId);
    await this.ensureNameFree(parent, input.name);
    const created = await this.insertCollection({ ownerId: input.ownerId, parentId: parent.id, path: `${parent.path}${input.name}/`, kind: input.kind });
    if (input.properties !== undefined && input.properties.length > 0) {
      await this.writeProperties({ kind: 'collection', collectionId: created.id }, input.properties);
    }
    await this.recordChange(parent.id, input.name, false, { children: 1 });
    return created;
  }

  /**
   * Locks a set of collections and everything below them, until no new descendant appeared meanwhile:
   * then no other transaction can add an object (or a collection) anywhere below until commit, since
   * each such write locks the collection it writes into. Returns the locked subtree.
   */
  private async lockTree(roots: readonly number[], also: readonly number[]): Promise<number[]> {
    let locked: number[] = [];
    for (;;) {
      const rows = roots.length === 0 ? [] : await this.q.raw<{ id: number }>(
        `WITH RECURSIVE tree(id) AS (SELECT id FROM collections WHERE id = ANY($1::bigint[])
           UNION SELECT c.id FROM collections c JOIN tree t ON c.parent_id = t.id)
         SELECT id FROM tree`,
        [roots],
      );
      const tree = rows.map((r) => Number(r.id));
      if (tree.every((id) => locked.includes(id))) return tree;
      await this.lock(...tree, ...also);
      locked = tree;
    }
  }

  /** object_busy has no foreign key (adding one would lock objects): the rows of deleted collections go here. */
  private async removeBusyRows(collectionIds: readonly number[]): Promise<void> {
    if (this.busyTable && collectionIds.length > 0) await this.q.raw('DELETE FROM object_busy WHERE collection_id = ANY($1::bigint[])', [collectionIds]);
  }

  async deleteCollection(collectionId: number): Promise<void> {
    const row = await this.collection(collectionId);
    const also = row.parent_id === null ? [] : [row.parent_id];
    if (this.busyTable) await this.removeBusyRows(await this.lockTree([collectionId], also));
    else await this.lock(collectionId, ...also);
    // Descendants, their objects, properties and change logs go by ON DELETE CASCADE.
    await this.q.run(this.k.deleteFrom('collections').where('id', '=', collectionId));
    if (row.parent_id !== null) await this.recordChange(row.parent_id, lastSegment(row.path), true, { children: -1 });
  }

  async copyCollection(collectionId: number, to: Destination, depthInfinity: boolean): Promise<{ created: boolean }> {
    await this.lock(collectionId, to.parentId);
    const source = await this.collection(collectionId);
    const parent = await this.collection(to.parentId);
    const targetPath = `${parent.path}${to.name}/`;
    if (targetPath.startsWith(source.path)) throw new ConflictingPath('cannot copy a collection into itself');
    const created = await this.clearDestination(to, parent);
    await this.copyTree(source, parent, to.name, depthInfinity);
    return { created };
  }

  private async copyTree(source: CollectionRow, parent: CollectionRow, name: string, deep: boolean): Promise<void> {
    const copy = await this.createCollection({ ownerId: parent.owner_id, parentId: parent.id, name, kind: source.kind as CollectionKind });
    const properties = await this.readProperties({ kind: 'collection', collectionId: source.id });
    if (properties.length > 0) {
      await this.writeProperties({ kind: 'collection', collectionId: copy.id }, properties.map((p) => ({ op: 'set', name: p.name, xml: p.xml })));
    }
    if (!deep) return;
    const objects = await this.q.all(this.k.selectFrom('objects').select('name').where('collection_id', '=', source.id).orderBy('name'));
    for (const object of objects) await this.copyObject(source.id, object.name, { parentId: copy.id, name: object.name, replace: false });
    const children = await this.q.all(this.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('parent_id', '=', source.id).orderBy('path'));
    const copyRow = await this.collection(copy.id);
    for (const child of children) await this.copyTree(child, copyRow, lastSegment(child.path), true);
  }

  async moveCollection(collectionId: number, to: Destination): Promise<{ created: boolean }> {
    const source = await this.collection(collectionId);
    if (source.parent_id === null) throw new ConflictingPath('a home cannot be moved');
    await this.lock(collectionId, source.parent_id, to.parentId);
    const parent = await this.collection(to.parentId);
    const targetPath = `${parent.path}${to.name}/`;
    if (targetPath === source.path) throw new ConflictingPath('source and destination are the same');
    if (targetPath.startsWith(source.path)) throw new ConflictingPath('cannot move a collection into itself');
    const created = await this.clearDestination(to, parent);
    const moving = await this.collection(collectionId);
    await this.q.run(tq.movePaths(this.k, moving.path, targetPath));
    await this.q.run(this.k.updateTable('collections').set({ parent_id: parent.id }).where('id', '=', collectionId));
    await this.recordChange(moving.parent_id ?? parent.id, lastSegment(moving.path), true, { children: -1 });
    await this.recordChange(parent.id, to.name, false, { children: 1 });
    return { created };
  }

  // ---- objects --------------------------------------------------------------------------------

  async putObject(input: PutObjectInput): Promise<{ created: boolean; object: ObjectRecord }> {
    await this.lock(input.collectionId);
    const parent = await this.collection(input.collectionId);
    if ((await this.collectionAt(`${parent.path}${input.name}/`)) !== undefined) throw new AlreadyExists(`${parent.path}${input.name}/ is a collection`);
    const current = await this.objectIn(input.collectionId, input.name);
    checkExpectation(current, input.expect);
    const metadata = input.metadata ?? {};
    await this.checkUid(input.collectionId, metadata.uid, input.name);
    const row = await this.q.first(tq.writeObject(this.k, input, current?.id, this.now()));
    if (row === undefined) throw new Error('write returned no row');
    // The whole row, whether or not the trigger of 0005 (dropped by 0009) wrote one with busy -1. A
    // concurrent backfill batch share-locks the objects it reads, so it waits for this transaction.
    if (this.busyTable) {
      await this.q.raw(
        `INSERT INTO object_busy (object_id, collection_id, busy, first_start, last_end) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (object_id) DO UPDATE SET collection_id = excluded.collection_id, busy = excluded.busy,
           first_start = excluded.first_start, last_end = excluded.last_end`,
        [row.id, input.collectionId, busyValue(metadata.component, metadata.mayBeBusy), metadata.firstStart ?? null, metadata.lastEnd ?? null],
      );
    }
    await this.recordChange(input.collectionId, input.name, false, {
      objects: current === undefined ? 1 : 0,
      bytes: input.body.byteLength - (current?.size ?? 0),
    });
    return { created: current === undefined, object: toObject(row) };
  }

  async deleteObject(collectionId: number, name: string, expect: WriteExpectation): Promise<void> {
    await this.lock(collectionId);
    const current = await this.objectIn(collectionId, name);
    if (current === undefined) throw new NotFound(`${name} does not exist`);
    checkExpectation(current, expect);
    await this.q.run(this.k.deleteFrom('objects').where('id', '=', current.id));
    if (this.busyTable) await this.q.raw('DELETE FROM object_busy WHERE object_id = $1', [current.id]);
    await this.recordChange(collectionId, name, true, { objects: -1, bytes: -current.size });
  }

  async copyObject(collectionId: number, name: string, to: Destination): Promise<{ created: boolean }> {
    await this.lock(collectionId, to.parentId);
    const source = await this.q.first(tq.objectToCopy(this.k, collectionId, name));
    if (source === undefined) throw new NotFound(`${name} does not exist`);
    const parent = await this.collection(to.parentId);
    if (to.parentId === collectionId && to.name === name) throw new ConflictingPath('source and destination are the same');
    const created = await this.clearDestination(to, parent);
    const copy = await this.putObject({
      collectionId: to.parentId,
      name: to.name,
      body: source.body,
      contentType: source.content_type,
      metadata: { uid: source.uid, component: source.component, firstStart: source.first_start, lastEnd: source.last_end, searchIndex: source.search_index },
    });
    // Same body, same answer.
    if (this.busyTable) await this.q.raw('UPDATE object_busy SET busy = (SELECT busy FROM object_busy WHERE object_id = $1) WHERE object_id = $2 AND EXISTS (SELECT 1 FROM object_busy WHERE object_id = $1)', [source.id, copy.object.id]);
    const properties = await this.readProperties({ kind: 'object', objectId: source.id });
    if (properties.length > 0) {
      await this.writeProperties({ kind: 'object', objectId: copy.object.id }, properties.map((p) => ({ op: 'set', name: p.name, xml: p.xml })));
    }
    return { created };
  }

  async moveObject(collectionId: number, name: string, to: Destination): Promise<{ created: boolean }> {
    await this.lock(collectionId, to.parentId);
    const source = await this.objectIn(collectionId, name);
    if (source === undefined) throw new NotFound(`${name} does not exist`);
    if (to.parentId === collectionId && to.name === name) throw new ConflictingPath('source and destination are the same');
    const parent = await this.collection(to.parentId);
    const created = await this.clearDestination(to, parent);
    if (to.parentId !== collectionId) await this.checkUid(to.parentId, source.uid, to.name);
    await this.q.run(this.k.updateTable('objects').set({ collection_id: to.parentId, name: to.name, modified_at: this.now() }).where('id', '=', source.id));
    if (this.busyTable) await this.q.raw('UPDATE object_busy SET collection_id = $1 WHERE object_id = $2', [to.parentId, source.id]);
    await this.recordChange(collectionId, name, true, { objects: -1, bytes: -source.size });
    await this.recordChange(to.parentId, to.name, false, { objects: 1, bytes: source.size });
    return { created };
  }

  // ---- users ------------------------------------------------------------------------------------

  /** Deletes a user; its collections and objects go by ON DELETE CASCADE, their object_busy rows here. */
  async deleteUser(name: string): Promise<boolean> {
    if (this.busyTable) {
      const owned = await this.q.raw<{ id: number }>('SELECT c.id FROM collections c JOIN users u ON u.id = c.owner_id WHERE u.name = $1', [name]);
      await this.removeBusyRows(await this.lockTree(owned.map((r) => Number(r.id)), []));
    }
    return (await this.q.run(this.k.deleteFrom('users').where('name', '=', name))) > 0;
  }

  // ---- dead properties ------------------------------------------------------------------------

  readProperties(target: PropertyTarget): Promise<StoredProperty[]> {
    return this.q.all(tq.readProperties(this.k, target));
  }

  private async writeProperties(target: PropertyTarget, operations: readonly PropertyOperation[]): Promise<void> {
    for (const operation of operations) {
      await this.q.run(tq.writeProperty(this.k, target, operation.name, operation.op === 'set' ? operation.xml : undefined));
    }
  }

  /** PROPPATCH: all operations or none (the caller's transaction rolls back on error). */
  async patchProperties(target: PropertyTarget, operations: readonly PropertyOperation[]): Promise<void> {
    if (target.kind === 'collection') {
      await this.lock(target.collectionId);
      await this.collection(target.collectionId);
      await this.writeProperties(target, operations);
      await this.recordChange(target.collectionId, '', false);
      return;
    }
    const object = await this.q.first(this.k.selectFrom('objects').select(['collection_id', 'name']).where('id', '=', target.objectId));
    if (object === undefined) throw new NotFound(`object ${target.objectId} does not exist`);
    await this.lock(object.collection_id);
    await this.writeProperties(target, operations);
    await this.recordChange(object.collection_id, object.name, false);
  }
}
