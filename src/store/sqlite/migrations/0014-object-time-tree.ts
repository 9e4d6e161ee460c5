// Expand: an R*Tree over each object's time bounds, so a calendar-query time-range reads the objects
// whose bounds meet its range, however big the calendar. The ordinary index on (collection_id,
// last_end, first_start) can bound only one side: a window in the middle of a 100,000-object calendar
// walked every object ending after it (about a quarter of the calendar) to find a few dozen.
//
// The tree has two dimensions: the collection (collection_lo = collection_hi = its id) and the
// bounds, with NULL (unbounded) stored as ±3e38, past any instant. An R*Tree keeps 32-bit floats and
// rounds each box outwards, so it returns a superset (instants to about two minutes): the store
// tests the exact bounds on what it returns. It is a virtual table (no STRICT, no upsert); created
// empty here, filled for older objects by the backfill 0015, and kept current by these triggers for
// every write, of this release or any other, because its content is exactly the objects' columns.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 14,
  name: 'object-time-tree',
  phase: 'expand',
  sql: `
CREATE VIRTUAL TABLE object_time_tree USING rtree(object_id, collection_lo, collection_hi, first_start, last_end);

CREATE TRIGGER object_time_tree_on_insert AFTER INSERT ON objects BEGIN
  INSERT OR REPLACE INTO object_time_tree (object_id, collection_lo, collection_hi, first_start, last_end)
  VALUES (NEW.id, NEW.collection_id, NEW.collection_id, coalesce(NEW.first_start, -3e38), coalesce(NEW.last_end, 3e38));
END;

CREATE TRIGGER object_time_tree_on_update AFTER UPDATE OF collection_id, first_start, last_end ON objects BEGIN
  INSERT OR REPLACE INTO object_time_tree (object_id, collection_lo, collection_hi, first_start, last_end)
  VALUES (NEW.id, NEW.collection_id, NEW.collection_id, coalesce(NEW.first_start, -3e38), coalesce(NEW.last_end, 3e38));
END;

CREATE TRIGGER object_time_tree_on_delete AFTER DELETE ON objects BEGIN
  DELETE FROM object_time_tree WHERE object_id = OLD.id;
END;
`,
};
