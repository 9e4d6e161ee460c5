// Contract: the triggers of 0009 kept object_busy current for writes of a release that knew nothing
// of it. From migration 12 on, the write path keeps every row itself — puts and copies upsert it,
// deletes, moves and collection and user deletes remove or re-home it (tree-writer.ts, sqlite-store.ts)
// — so once every live node knows 12, the triggers only repeat that work on each write and go.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 13,
  name: 'drop-object-busy-triggers',
  phase: 'contract',
  safeOnceNodesKnow: 12,
  sql: `
DROP TRIGGER IF EXISTS object_busy_on_insert;
DROP TRIGGER IF EXISTS object_busy_on_update;
DROP TRIGGER IF EXISTS object_busy_on_delete;
`,
};
