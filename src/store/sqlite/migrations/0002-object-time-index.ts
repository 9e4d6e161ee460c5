// Expand: index the time bounds extracted at write time, so a time-range calendar-query reads only
// the objects that can overlap it. Built while the table is small in every deployment so far (no
// release with calendar data predates it); later index builds on big tables follow the online
// pattern of the safe-release runner.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 2,
  name: 'object-time-index',
  phase: 'expand',
  sql: `
CREATE INDEX objects_time_range ON objects(collection_id, last_end, first_start);
`,
};
