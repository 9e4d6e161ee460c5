// Backfill: the R*Tree entry of every object that existed before 0014 (later ones get theirs from the
// triggers). Idempotent: it writes what the row's bounds say now. Until it is recorded as applied, the
// store does not read candidates through the tree (a missing entry would hide an object).
import type { SqliteMigration } from '../migrator.ts';
import { COMPONENT_KINDS } from './0014-object-time-tree.ts';

/** The tree's stand-in for an unbounded side (as in 0014's triggers). */
export const UNBOUNDED = 3e38;

/** The tree's code of a main component type (as in 0014's triggers). */
export function componentKind(component: string | null | undefined): number {
  return component == null ? 0 : (COMPONENT_KINDS[component] ?? 0);
}

export const migration: SqliteMigration = {
  version: 15,
  name: 'object-time-tree-backfill',
  phase: 'backfill',
  sql: '-- backfill object_time_tree (collection_lo, collection_hi, kind_lo, kind_hi, first_start, last_end) from objects, in key order; revision 1',
  backfill: {
    table: 'objects',
    key: 'id',
    columns: ['collection_id', 'component', 'first_start', 'last_end'],
    into: { table: 'object_time_tree', key: 'object_id', replace: true },
    derive: (row) => ({
      collection_lo: row.collection_id as number,
      collection_hi: row.collection_id as number,
      kind_lo: componentKind(row.component as string | null),
      kind_hi: componentKind(row.component as string | null),
      first_start: (row.first_start as number | null) ?? -UNBOUNDED,
      last_end: (row.last_end as number | null) ?? UNBOUNDED,
    }),
  },
};
