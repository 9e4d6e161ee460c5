// The object_busy side table (migrations 0009/0010) as the store uses it: the write path keeps each
// object's row itself — written with the object, moved with it, removed with it, its collection or its
// owner — so rows written during the backfill are right and 0013 can drop the triggers of 0009 that
// did this for the previous release's writes; free-busy-query reads its
// candidates through its index once the backfill has covered every older object. On a schema without
// the table (the previous release's, DESIGN.md §5.5) it does nothing and queries go the old way.
// Must not import DAV or HTTP.
import type Database from 'better-sqlite3';
import { migration as busyBackfill } from './migrations/0010-object-busy-backfill.ts';
import { OBJECT_COLUMNS, type ObjectRow } from './rows.ts';
import { busyValue } from '../busy-value.ts';

const SELECT_COLUMNS = OBJECT_COLUMNS.map((c) => `o.${c}`).join(', ');

export class ObjectBusyIndex {
  private readonly db: Database.Database;
  private present = false;
  private statements:
    | { upsert: Database.Statement; copy: Database.Statement; remove: Database.Statement; move: Database.Statement; removeTree: Database.Statement; removeOwned: Database.Statement; complete: Database.Statement }
    | undefined;

  constructor(db: Database.Database) {
    this.db = db;
  }

  /** Looks at the schema again (after migrations ran). */
  refresh(): void {
    this.present = this.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'object_busy'").get() !== undefined;
    this.statements = this.present
      ? {
          upsert: this.db.prepare(
            `INSERT INTO object_busy (object_id, collection_id, busy, first_start, last_end) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (object_id) DO UPDATE SET collection_id = excluded.collection_id, busy = excluded.busy,
             first_start = excluded.first_start, last_end = excluded.last_end`,
          ),
          // Only when the source has a row: before the backfill reached it there is none, and the copy keeps
          // the write path's own value (busy is NOT NULL).
          copy: this.db.prepare(
            'UPDATE object_busy SET busy = (SELECT busy FROM object_busy WHERE object_id = @from) WHERE object_id = @to AND EXISTS (SELECT 1 FROM object_busy WHERE object_id = @from)',
          ),
          remove: this.db.prepare('DELETE FROM object_busy WHERE object_id = ?'),
          move: this.db.prepare('UPDATE object_busy SET collection_id = ? WHERE object_id = ?'),
          // A collection and every collection below it (their objects go by ON DELETE CASCADE).
          removeTree: this.db.prepare(
            `WITH RECURSIVE tree(id) AS (SELECT ? UNION SELECT c.id FROM collections c JOIN tree t ON c.parent_id = t.id)
             DELETE FROM object_busy WHERE collection_id IN (SELECT id FROM tree)`,
          ),
          // Every collection a user owns and everything below them (deleting the user cascades to them).
          removeOwned: this.db.prepare(
            `WITH RECURSIVE tree(id) AS (SELECT c.id FROM collections c JOIN users u ON u.id = c.owner_id WHERE u.name = ?
               UNION SELECT c.id FROM collections c JOIN tree t ON c.parent_id = t.id)
             DELETE FROM object_busy WHERE collection_id IN (SELECT id FROM tree)`,
          ),
          complete: this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?'),
        }
      : undefined;
  }

  /** Inside the write transaction of a PUT, after the object row was written. */
  write(objectId: number, collectionId: number, metadata: { readonly component?: string | null; readonly mayBeBusy?: boolean | null; readonly firstStart?: number | null; readonly lastEnd?: number | null }): void {
    this.statements?.upsert.run(objectId, collectionId, busyValue(metadata.component, metadata.mayBeBusy), metadata.firstStart ?? null, metadata.lastEnd ?? null);
  }

  /** A copy has the same body, so the same answer. */
  copy(fromId: number, toId: number): void {
    this.statements?.copy.run({ from: fromId, to: toId });
  }

  /** Inside the write transaction of a DELETE of one object. */
  remove(objectId: number): void {
    this.statements?.remove.run(objectId);
  }

  /** Inside the write transaction of a MOVE of one object to another collection. */
  move(objectId: number, collectionId: number): void {
    this.statements?.move.run(collectionId, objectId);
  }

  /** Before a collection is deleted: the rows of every object in it and below it. */
  removeTree(collectionId: number): void {
    this.statements?.removeTree.run(collectionId);
  }

  /** Before a user is deleted: the rows of every object in the collections the user owns. */
  removeOwnedBy(userName: string): void {
    this.statements?.removeOwned.run(userName);
  }

  /** Whether every object has its row, so the index may narrow a free-busy-query (read in the query's snapshot). */
  complete(): boolean {
    return this.statements?.complete.get(busyBackfill.version) !== undefined;
  }

  /** Objects of a collection that may add busy time and whose bounds touch [start, end]; call only when complete(). */
  busyCandidates(collectionId: number, start: number | null, end: number | null, componentType: string | undefined): (ObjectRow & { body: Uint8Array })[] {
    const where = ['b.collection_id = ?', 'b.busy IN (-1, 1)'];
    const parameters: unknown[] = [collectionId];
    if (start !== null) {
      where.push('(b.last_end IS NULL OR b.last_end >= ?)');
      parameters.push(start);
    }
    if (end !== null) {
      where.push('(b.first_start IS NULL OR b.first_start <= ?)');
      parameters.push(end);
    }
    if (componentType !== undefined) {
      where.push('o.component = ?');
      parameters.push(componentType);
    }
    return this.db
      .prepare(`SELECT ${SELECT_COLUMNS}, o.body FROM object_busy b JOIN objects o ON o.id = b.object_id WHERE ${where.join(' AND ')} ORDER BY o.name`)
      .all(...parameters) as (ObjectRow & { body: Uint8Array })[];
  }
}
