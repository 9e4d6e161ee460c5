// Synchronous writes on the collection/object tree, always called inside one SQLite transaction
// opened by SqliteStore. Each member change appends to the collection's change log and bumps its
// sync position and counters in the same transaction, and a change inside a collection also bumps
// its parent (the home), which is how clients watching a home notice. Must not import DAV or HTTP.
import type { Kysely } from 'kysely';
import { AlreadyExists, ConflictingPath, NotFound, UidConflict } from '../errors.ts';
import type { Destination, NewCollection, PutObjectInput, WriteExpectation } from '../store.ts';
import type { CollectionKind, CollectionRecord, ObjectRecord, PropertyOperation, PropertyTarget, StoredProperty } from '../types.ts';
import type { ObjectBusyIndex } from './object-busy.ts';
import type { SqliteRunner } from './query.ts';
import { COLLECTION_COLUMNS, lastSegment, toCollection, toObject, type CollectionRow } from './rows.ts';
import type { SqliteDatabase } from './schema.ts';
import * as tq from '../tree-queries.ts';
import { checkExpectation, type Deltas } from '../write-rules.ts';

export class TreeWriter {
  private readonly q: SqliteRunner;
  private readonly k: Kysely<SqliteDatabase>;
  private readonly now: () => number;
  private readonly busy: ObjectBusyIndex | undefined;

  constructor(q: SqliteRunner, k: Kysely<SqliteDatabase>, now: () => number, busy?: ObjectBusyIndex) {
    this.q = q;
    this.k = k;
    this.now = now;
    this.busy = busy;
  }

  // ---- helpers --------------------------------------------------------------------------------

  private collection(id: number): CollectionRow {
    const row = this.q.first(tq.collectionById(this.k, id));
    if (row === undefined) throw new NotFound(`collection ${id} does not exist`);
    return row;
  }

  private collectionAt(path: string): CollectionRow | undefined {
    return this.q.first(tq.collectionAtPath(this.k, path));
  }

  private objectIn(collectionId: number, name: string): (ObjectRecord & { body?: never }) | undefined {
    const row = this.q.first(tq.objectByName(this.k, collectionId, name));
    return row === undefined ? undefined : toObject(row);
  }

  /** Appends one change to a collection's log, adjusts its counters, and marks the parent changed. */
  private recordChange(collectionId: number, member: string, deleted: boolean, deltas: Deltas = {}): void {
    const now = this.now();
    const updated = this.q.first(tq.bumpCollection(this.k, collectionId, deltas, now));
    if (updated === undefined) throw new NotFound(`collection ${collectionId} does not exist`);
    this.q.run(
      this.k.insertInto('changes').values({ collection_id: collectionId, seq: updated.sync_seq, member, deleted: deleted ? 1 : 0, changed_at: now }),
    );
    if (updated.parent_id !== null) {
      const parent = this.q.first(tq.bumpParent(this.k, updated.parent_id, now));
      if (parent !== undefined) {
        this.q.run(
          this.k.insertInto('changes').values({ collection_id: updated.parent_id, seq: parent.sync_seq, member: lastSegment(updated.path), deleted: 0, changed_at: now }),
        );
      }
    }
  }

  /**
   * Makes room at a COPY/MOVE destination. Returns true when nothing was there (→ 201).
   * With replace=false an occupied destination is an error (→ 412).
   */
  private clearDestination(to: Destination, parent: CollectionRow): boolean {
    const object = this.objectIn(to.parentId, to.name);
    const collection = this.collectionAt(`${parent.path}${to.name}/`);
    if (object === undefined && collection === undefined) return true;
    if (!to.replace) throw new AlreadyExists(`${parent.path}${to.name} exists`);
    if (object !== undefined) this.deleteObject(to.parentId, to.name, undefined);
    if (collection !== undefined) this.deleteCollection(collection.id);
    return false;
  }

  private ensureNameFree(parent: CollectionRow, name: string): void {
    if (this.objectIn(parent.id, name) !== undefined || this.collectionAt(`${parent.path}${name}/`) !== undefined) {
      throw new AlreadyExists(`${parent.path}${name} exists`);
    }
  }

  private checkUid(collectionId: number, uid: string | null | undefined, ownName: string): void {
    if (uid === null || uid === undefined) return;
    const clash = this.q.first(tq.uidClash(this.k, collectionId, uid, ownName));
    if (clash !== undefined) {
      const collection = this.collection(collectionId);
      throw new UidConflict(clash.name, collection.path, collection.kind);
    }
  }

  // ---- collections ----------------------------------------------------------------------------

  insertCollection(input: { ownerId: number; parentId: number | null; path: string; kind: CollectionKind }): CollectionRecord {
    const row = this.q.first(tq.insertCollection(this.k, input, this.now()));
    if (row === undefined) throw new Error('insert returned no row');
    return toCollection(row);
  }

  createCollection(input: NewCollection): CollectionRecord {
    const parent = this.collection(input.parentId);
    this.ensureNameFree(parent, input.name);
    const created = this.insertCollection({ ownerId: input.ownerId, parentId: parent.id, path: `${parent.path}${input.name}/`, kind: input.kind });
    if (input.properties !== undefined && input.properties.length > 0) {
      this.writeProperties({ kind: 'collection', collectionId: created.id }, input.properties);
    }
    this.recordChange(parent.id, input.name, false, { children: 1 });
    return created;
  }

  deleteCollection(collectionId: number): void {
    const row = this.collection(collectionId);
    // Descendants, their objects, properties and change logs go by ON DELETE CASCADE; object_busy has
    // no foreign key (it would lock objects to add one), so the write path removes its rows.
    this.busy?.removeTree(collectionId);
    this.q.run(this.k.deleteFrom('collections').where('id', '=', collectionId));
    if (row.parent_id !== null) this.recordChange(row.parent_id, lastSegment(row.path), true, { children: -1 });
  }

  copyCollection(collectionId: number, to: Destination, depthInfinity: boolean): { created: boolean } {
    const source = this.collection(collectionId);
    const parent = this.collection(to.parentId);
    const targetPath = `${parent.path}${to.name}/`;
    if (targetPath.startsWith(source.path)) throw new ConflictingPath('cannot copy a collection into itself');
    const created = this.clearDestination(to, parent);
    this.copyTree(source, parent, to.name, depthInfinity);
    return { created };
  }

  private copyTree(source: CollectionRow, parent: CollectionRow, name: string, deep: boolean): void {
    const copy = this.createCollection({ ownerId: parent.owner_id, parentId: parent.id, name, kind: source.kind as CollectionKind });
    const properties = this.readProperties({ kind: 'collection', collectionId: source.id });
    if (properties.length > 0) {
      this.writeProperties({ kind: 'collection', collectionId: copy.id }, properties.map((p) => ({ op: 'set', name: p.name, xml: p.xml })));
    }
    if (!deep) return;
    const objects = this.q.all(this.k.selectFrom('objects').select('name').where('collection_id', '=', source.id).orderBy('name'));
    for (const object of objects) this.copyObject(source.id, object.name, { parentId: copy.id, name: object.name, replace: false });
    const children = this.q.all(this.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('parent_id', '=', source.id).orderBy('path'));
    const copyRow = this.collection(copy.id);
    for (const child of children) this.copyTree(child, copyRow, lastSegment(child.path), true);
  }

  moveCollection(collectionId: number, to: Destination): { created: boolean } {
    const source = this.collection(collectionId);
    if (source.parent_id === null) throw new ConflictingPath('a home cannot be moved');
    const parent = this.collection(to.parentId);
    const targetPath = `${parent.path}${to.name}/`;
    if (targetPath === source.path) throw new ConflictingPath('source and destination are the same');
    if (targetPath.startsWith(source.path)) throw new ConflictingPath('cannot move a collection into itself');
    const created = this.clearDestination(to, parent);
    // Re-read: clearing the destination may have changed counters of the parents involved.
    const moving = this.collection(collectionId);
    this.q.run(tq.movePaths(this.k, moving.path, targetPath));
    this.q.run(this.k.updateTable('collections').set({ parent_id: parent.id }).where('id', '=', collectionId));
    this.recordChange(moving.parent_id ?? parent.id, lastSegment(moving.path), true, { children: -1 });
    this.recordChange(parent.id, to.name, false, { children: 1 });
    return { created };
  }

  // ---- objects --------------------------------------------------------------------------------

  putObject(input: PutObjectInput): { created: boolean; object: ObjectRecord } {
    const parent = this.collection(input.collectionId);
    if (this.collectionAt(`${parent.path}${input.name}/`) !== undefined) throw new AlreadyExists(`${parent.path}${input.name}/ is a collection`);
    const current = this.objectIn(input.collectionId, input.name);
    checkExpectation(current, input.expect);
    const metadata = input.metadata ?? {};
    this.checkUid(input.collectionId, metadata.uid, input.name);
    const row = this.q.first(tq.writeObject(this.k, input, current?.id, this.now()));
    if (row === undefined) throw new Error('write returned no row');
    this.busy?.write(row.id, input.collectionId, metadata);
    this.recordChange(input.collectionId, input.name, false, {
      objects: current === undefined ? 1 : 0,
      bytes: input.body.byteLength - (current?.size ?? 0),
    });
    return { created: current === undefined, object: toObject(row) };
  }

  deleteObject(collectionId: number, name: string, expect: WriteExpectation): void {
    const current = this.objectIn(collectionId, name);
    if (current === undefined) throw new NotFound(`${name} does not exist`);
    checkExpectation(current, expect);
    this.q.run(this.k.deleteFrom('objects').where('id', '=', current.id));
    this.busy?.remove(current.id);
    this.recordChange(collectionId, name, true, { objects: -1, bytes: -current.size });
  }

  copyObject(collectionId: number, name: string, to: Destination): { created: boolean } {
    const source = this.q.first(tq.objectToCopy(this.k, collectionId, name));
    if (source === undefined) throw new NotFound(`${name} does not exist`);
    const parent = this.collection(to.parentId);
    if (to.parentId === collectionId && to.name === name) throw new ConflictingPath('source and destination are the same');
    const created = this.clearDestination(to, parent);
    const copy = this.putObject({
      collectionId: to.parentId,
      name: to.name,
      body: source.body,
      contentType: source.content_type,
      metadata: { uid: source.uid, component: source.component, firstStart: source.first_start, lastEnd: source.last_end, searchIndex: source.search_index },
    });
    this.busy?.copy(source.id, copy.object.id);
    const properties = this.readProperties({ kind: 'object', objectId: source.id });
    if (properties.length > 0) {
      this.writeProperties({ kind: 'object', objectId: copy.object.id }, properties.map((p) => ({ op: 'set', name: p.name, xml: p.xml })));
    }
    return { created };
  }

  moveObject(collectionId: number, name: string, to: Destination): { created: boolean } {
    const source = this.objectIn(collectionId, name);
    if (source === undefined) throw new NotFound(`${name} does not exist`);
    if (to.parentId === collectionId && to.name === name) throw new ConflictingPath('source and destination are the same');
    const parent = this.collection(to.parentId);
    const created = this.clearDestination(to, parent);
    if (to.parentId !== collectionId) this.checkUid(to.parentId, source.uid, to.name);
    this.q.run(this.k.updateTable('objects').set({ collection_id: to.parentId, name: to.name, modified_at: this.now() }).where('id', '=', source.id));
    this.busy?.move(source.id, to.parentId);
    this.recordChange(collectionId, name, true, { objects: -1, bytes: -source.size });
    this.recordChange(to.parentId, to.name, false, { objects: 1, bytes: source.size });
    return { created };
  }

  // ---- dead properties ------------------------------------------------------------------------

  readProperties(target: PropertyTarget): StoredProperty[] {
    return this.q.all(tq.readProperties(this.k, target));
  }

  private writeProperties(target: PropertyTarget, operations: readonly PropertyOperation[]): void {
    for (const operation of operations) {
      this.q.run(tq.writeProperty(this.k, target, operation.name, operation.op === 'set' ? operation.xml : undefined));
    }
  }

  /** PROPPATCH: all operations or none (the caller's transaction rolls back on error). */
  patchProperties(target: PropertyTarget, operations: readonly PropertyOperation[]): void {
    if (target.kind === 'collection') {
      this.collection(target.collectionId);
      this.writeProperties(target, operations);
      this.recordChange(target.collectionId, '', false);
      return;
    }
    const object = this.q.first(this.k.selectFrom('objects').select(['collection_id', 'name']).where('id', '=', target.objectId));
    if (object === undefined) throw new NotFound(`object ${target.objectId} does not exist`);
    this.writeProperties(target, operations);
    this.recordChange(object.collection_id, object.name, false);
  }
}
