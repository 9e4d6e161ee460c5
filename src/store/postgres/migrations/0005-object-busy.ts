// Expand: what free-busy needs to know of each object (see the SQLite migration 0009 for why a side
// table: calendars full of objects that never add busy time). Created empty with no foreign key (a
// foreign key would lock objects); one trigger keeps it current for every write — also those of a
// previous release that knows nothing of it — with busy -1 (unknown, looked at each time) until the
// write path or the backfill (0007) fills in the real value. The index comes concurrently in 0006.
// CREATE TRIGGER takes a brief SHARE ROW EXCLUSIVE lock on objects, bounded by the DDL lock_timeout.
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 5,
  name: 'object-busy',
  phase: 'expand',
  sql: `
CREATE TABLE object_busy (
  object_id bigint PRIMARY KEY,
  collection_id bigint NOT NULL,
  busy smallint NOT NULL,
  first_start bigint,
  last_end bigint
);

CREATE FUNCTION object_busy_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM object_busy WHERE object_id = OLD.id;
    RETURN OLD;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO object_busy (object_id, collection_id, busy, first_start, last_end)
    VALUES (NEW.id, NEW.collection_id, -1, NEW.first_start, NEW.last_end)
    ON CONFLICT (object_id) DO UPDATE SET collection_id = excluded.collection_id, busy = -1,
      first_start = excluded.first_start, last_end = excluded.last_end;
  ELSE
    UPDATE object_busy SET collection_id = NEW.collection_id, first_start = NEW.first_start, last_end = NEW.last_end,
      busy = CASE WHEN NEW.etag IS NOT DISTINCT FROM OLD.etag THEN busy ELSE -1 END
    WHERE object_id = NEW.id;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER object_busy_sync AFTER INSERT OR DELETE OR UPDATE OF collection_id, first_start, last_end, etag ON objects
  FOR EACH ROW EXECUTE FUNCTION object_busy_sync();
`,
};
