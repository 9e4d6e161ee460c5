// Expand: what free-busy needs to know of each object, derived from its iCalendar data, so a
// free-busy-query reads only objects that can add busy time. Most calendars carry many objects that
// never can — birthdays and holidays (TRANSP:TRANSPARENT, recurring yearly, so every range is a
// candidate and each query expanded decades of them), cancelled series, tasks — and the answer
// needs none of them.
//
// Why a side table and not ADD COLUMN on objects: objects is STRICT, so SQLite checks every row while
// adding a column (≈0.3 s per million rows, lint rule add-column-scans-table), and the index on it
// would be built under the write lock (≈0.7 s per million rows). object_busy is created here empty,
// with its index, so both cost nothing now; the backfill 0010 fills it in batches (each under the
// lock budget), and the triggers below keep it current meanwhile — also for writes of a previous
// release that knows nothing of it. busy: 1 may be busy, 0 never, -1 unknown (treated as busy).
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 9,
  name: 'object-busy',
  phase: 'expand',
  sql: `
CREATE TABLE object_busy (
  object_id INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL,
  busy INTEGER NOT NULL,
  first_start INTEGER,
  last_end INTEGER
) STRICT;
CREATE INDEX object_busy_time ON object_busy(collection_id, busy, last_end, first_start);

CREATE TRIGGER object_busy_on_insert AFTER INSERT ON objects BEGIN
  INSERT INTO object_busy (object_id, collection_id, busy, first_start, last_end)
  VALUES (NEW.id, NEW.collection_id, -1, NEW.first_start, NEW.last_end)
  ON CONFLICT (object_id) DO UPDATE SET collection_id = excluded.collection_id, busy = -1, first_start = excluded.first_start, last_end = excluded.last_end;
END;

CREATE TRIGGER object_busy_on_update AFTER UPDATE OF collection_id, first_start, last_end, etag ON objects BEGIN
  UPDATE object_busy SET collection_id = NEW.collection_id, first_start = NEW.first_start, last_end = NEW.last_end,
    busy = CASE WHEN NEW.etag IS OLD.etag THEN busy ELSE -1 END
  WHERE object_id = NEW.id;
END;

CREATE TRIGGER object_busy_on_delete AFTER DELETE ON objects BEGIN
  DELETE FROM object_busy WHERE object_id = OLD.id;
END;
`,
};
