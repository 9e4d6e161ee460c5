// Expand: each node's heartbeat also records the highest migration version its code knows (and found
// in place when it started: knownMigration in ../migrator.ts), so a
// contract step can say what it needs (SqliteMigration.safeOnceNodesKnow) instead of "every live
// node runs this very release". Nullable: a node of an earlier release, which knows nothing of the
// column, leaves it NULL, which counts as knowing too little. nodes holds one row per serving
// process, so ADD COLUMN's check of every row of this STRICT table is short (the lint knows it).
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 12,
  name: 'node-known-migration',
  phase: 'expand',
  sql: `
ALTER TABLE nodes ADD COLUMN known_migration INTEGER;
`,
};
