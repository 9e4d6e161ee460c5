// Expand: the records of the expected-release guard (DESIGN.md §6). `almanac release expect` may
// create the same table before this migration has run (an operator approving the release that
// brings it), hence IF NOT EXISTS.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 6,
  name: 'release-expectations',
  phase: 'expand',
  sql: `
CREATE TABLE IF NOT EXISTS release_expectations (
  id INTEGER PRIMARY KEY,
  version TEXT NOT NULL,
  migration_hash TEXT NOT NULL,
  window_from INTEGER,
  window_until INTEGER,
  approved_by TEXT NOT NULL,
  reason TEXT,
  created_at INTEGER NOT NULL
) STRICT;
`,
};
