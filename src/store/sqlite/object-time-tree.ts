// The R*Tree of object time bounds (migrations 0014/0015) as the store reads it: time-range query
// candidates through the tree once its backfill has covered every older object. The triggers of 0014
// keep it current for every write, so the write path does nothing here. On a schema without it (an
// older release's, DESIGN.md §5.5), or before the backfill is done, queries go the old way.
// Must not import DAV or HTTP.
import type Database from 'better-sqlite3';
import { componentKind, migration as treeBackfill, UNBOUNDED } from './migrations/0015-object-time-tree-backfill.ts';
import type { ObjectRecord, ObjectWithBody } from '../types.ts';
import { OBJECT_COLUMNS, toObject, type ObjectRow } from './rows.ts';

const SELECT_COLUMNS = OBJECT_COLUMNS.map((c) => `o.${c}`).join(', ');

// The tree drives (CROSS JOIN keeps that order): its boxes are rounded outwards, so the exact bounds
// are tested again on the rows it returns.
const CANDIDATES = `SELECT ${SELECT_COLUMNS} FROM object_time_tree t CROSS JOIN objects o ON o.id = t.object_id
  WHERE t.collection_lo <= @collection AND t.collection_hi >= @collection AND t.kind_lo <= @kindTo AND t.kind_hi >= @kindFrom
    AND t.first_start <= @end AND t.last_end >= @start
    AND o.collection_id = @collection
    AND (o.last_end IS NULL OR o.last_end >= @start) AND (o.first_start IS NULL OR o.first_start <= @end)`;

export class ObjectTimeTree {
  private readonly db: Database.Database;
  private statements: { any: Database.Statement; ofComponent: Database.Statement; body: Database.Statement; complete: Database.Statement } | undefined;
  private completeSeen = false;

  constructor(db: Database.Database) {
    this.db = db;
  }

  /** Looks at the schema again (after migrations ran). */
  refresh(): void {
    const present = this.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'object_time_tree'").get() !== undefined;
    this.statements = present
      ? {
          any: this.db.prepare(CANDIDATES),
          ofComponent: this.db.prepare(`${CANDIDATES} AND o.component = @component`),
          body: this.db.prepare('SELECT body FROM objects WHERE id = ?').pluck(),
          complete: this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?'),
        }
      : undefined;
    this.completeSeen = false;
  }

  /** Whether every object has its entry (the backfill may finish in another process: asked until it has). */
  complete(): boolean {
    if (!this.completeSeen && this.statements !== undefined) this.completeSeen = this.statements.complete.get(treeBackfill.version) !== undefined;
    return this.completeSeen;
  }

  /**
   * Objects of the collection whose bounds meet [start, end] (null: unbounded) and that `mayMatch`
   * keeps, with their bodies; call only when complete() and inside one read transaction (the records
   * and the bodies come from the same snapshot). Bodies are read only for the objects kept.
   */
  candidates(
    collectionId: number,
    start: number | null,
    end: number | null,
    componentType: string | undefined,
    mayMatch: ((object: ObjectRecord) => boolean) | undefined,
  ): ObjectWithBody[] {
    const statements = this.statements;
    if (statements === undefined) throw new Error('object_time_tree is not in this schema');
    const kind = componentType === undefined ? undefined : componentKind(componentType);
    const parameters = { collection: collectionId, kindFrom: kind ?? 0, kindTo: kind ?? 1e9, start: start ?? -UNBOUNDED, end: end ?? UNBOUNDED };
    const statement = componentType === undefined ? statements.any : statements.ofComponent;
    const rows = statement.all(componentType === undefined ? parameters : { ...parameters, component: componentType }) as ObjectRow[];
    const kept: ObjectWithBody[] = [];
    for (const row of rows) {
      const object = toObject(row);
      if (mayMatch !== undefined && !mayMatch(object)) continue;
      const body = statements.body.get(row.id) as Uint8Array | undefined;
      if (body !== undefined) kept.push({ ...object, body });
    }
    return kept;
  }
}
