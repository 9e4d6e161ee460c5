// Expand: an R*Tree over each object's time bounds, so a calendar-query time-range reads the objects
// whose bounds meet its range, however big the calendar. The ordinary index on (collection_id,
// last_end, first_start) can bound only one side: a window in the middle of a 100,000-object calendar
// walked every object ending after it (about a quarter of the calendar) to find a few dozen.
//
// The tree has three dimensions: the collection (collection_lo = collection_hi = its id), the main
// component (a code from COMPONENT_KINDS, so the undated tasks that meet every range are not read by
// an event query) and the bounds, with NULL (unbounded) stored as ±3e38, past any instant. An R*Tree keeps 32-bit floats and
// rounds each box outwards, so it returns a superset (instants to about two minutes): the store
// tests the exact bounds on what it returns. It is a virtual table (no STRICT, no upsert); created
// empty here, filled for older objects by the backfill 0015, and kept current by these triggers for
// every write, of this release or any other, because its content is exactly the objects' columns.
import type { SqliteMigration } from '../migrator.ts';

/** The tree's code of each main component type (0 for any other). Never change: the SQL below holds it. */
export const COMPONENT_KINDS: Readonly<Record<string, number>> = { VEVENT: 1, VTODO: 2, VJOURNAL: 3, VFREEBUSY: 4, VAVAILABILITY: 5 };

const KIND_OF_NEW = `CASE NEW.component ${Object.entries(COMPONENT_KINDS).map(([name, code]) => `WHEN '${name}' THEN ${code}`).join(' ')} ELSE 0 END`;
const ENTRY_OF_NEW = `(NEW.id, NEW.collection_id, NEW.collection_id, ${KIND_OF_NEW}, ${KIND_OF_NEW}, coalesce(NEW.first_start, -3e38), coalesce(NEW.last_end, 3e38))`;

export const migration: SqliteMigration = {
  version: 14,
  name: 'object-time-tree',
  phase: 'expand',
  sql: `
CREATE VIRTUAL TABLE object_time_tree USING rtree(object_id, collection_lo, collection_hi, kind_lo, kind_hi, first_start, last_end);

CREATE TRIGGER object_time_tree_on_insert AFTER INSERT ON objects BEGIN
  INSERT OR REPLACE INTO object_time_tree (object_id, collection_lo, collection_hi, kind_lo, kind_hi, first_start, last_end)
  VALUES ${ENTRY_OF_NEW};
END;

CREATE TRIGGER object_time_tree_on_update AFTER UPDATE OF collection_id, component, first_start, last_end ON objects BEGIN
  INSERT OR REPLACE INTO object_time_tree (object_id, collection_lo, collection_hi, kind_lo, kind_hi, first_start, last_end)
  VALUES ${ENTRY_OF_NEW};
END;

CREATE TRIGGER object_time_tree_on_delete AFTER DELETE ON objects BEGIN
  DELETE FROM object_time_tree WHERE object_id = OLD.id;
END;
`,
};
