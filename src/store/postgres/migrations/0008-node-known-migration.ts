// Expand: each node's heartbeat also records the highest migration version its code knows (see the
// SQLite migration 0012). A nullable column without a default changes only the catalog: no rewrite,
// a brief lock bounded by the DDL lock_timeout. NULL (a node of an earlier release) knows too little.
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 8,
  name: 'node-known-migration',
  phase: 'expand',
  sql: 'ALTER TABLE nodes ADD COLUMN IF NOT EXISTS known_migration integer;',
};
