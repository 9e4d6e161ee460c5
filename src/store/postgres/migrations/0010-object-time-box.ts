// Expand: a GiST index over each object's time bounds as a box (the collection on one axis, the
// bounds on the other), so a calendar-query time-range reads the objects whose bounds meet its range
// however big the calendar: the b-tree on (collection_id, last_end, first_start) bounds only one
// side and walked every object ending after the range (a quarter of a 100,000-object calendar for a
// window in its middle). An expression index on existing columns: built CONCURRENTLY, no backfill, and
// current for every write of any release. Unbounded sides are ±1e15 ms (past the year 30000); float8
// holds every instant and collection id exactly. reads.ts queries with the same expression, which
// must never change here (the applied migration's checksum holds it).
import type { PostgresMigration } from '../migrator.ts';

export const OBJECT_TIME_BOX =
  'box(point(collection_id::float8, coalesce(first_start::float8, -1e15::float8)), point(collection_id::float8, coalesce(last_end::float8, 1e15::float8)))';

export const migration: PostgresMigration = {
  version: 10,
  name: 'object-time-box',
  phase: 'expand',
  transactional: false,
  sql: `CREATE INDEX CONCURRENTLY IF NOT EXISTS objects_time_box ON objects USING gist (${OBJECT_TIME_BOX});`,
};
