// Expand: rehearsal reports (DESIGN.md §6). `almanac migrate rehearse` stores each report here, tied
// to the hash of the migration set it rehearsed and the data size it ran on, so `almanac release
// expect` can require a passing, fresh one. The rehearsal of a release runs before that release is
// expected, so it creates the same table (IF NOT EXISTS) on an older schema.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 11,
  name: 'migration-rehearsals',
  phase: 'expand',
  sql: `
CREATE TABLE IF NOT EXISTS migration_rehearsals (
  id INTEGER PRIMARY KEY,
  migration_hash TEXT NOT NULL,
  version TEXT NOT NULL,
  passed INTEGER NOT NULL,
  data_bytes INTEGER NOT NULL,
  object_rows INTEGER NOT NULL,
  longest_lock_ms REAL NOT NULL,
  estimated_ms REAL NOT NULL,
  report TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
`,
};
