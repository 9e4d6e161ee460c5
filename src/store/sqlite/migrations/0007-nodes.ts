// Expand: the node registry. Each serving process records its release and a heartbeat, so
// `almanac release status` lists live nodes and a contract step can check that none still needs the
// old shape (DESIGN.md §6).
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 7,
  name: 'nodes',
  phase: 'expand',
  sql: `
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  migration_hash TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) STRICT;
`,
};
