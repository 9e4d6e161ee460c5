// Contract: the trigger of 0005 kept object_busy current for writes of a release that knew nothing
// of it. From migration 8 on, the write path writes every row itself — puts and copies upsert it,
// deletes, moves and collection and user deletes remove or re-home it (tree-writer.ts) — so once
// every live node knows 8 the trigger and its function go. DROP TRIGGER takes a brief ACCESS
// EXCLUSIVE lock on objects, bounded by the runner's start-up lock_timeout and retried.
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 9,
  name: 'drop-object-busy-trigger',
  phase: 'contract',
  safeOnceNodesKnow: 8,
  sql: `
DROP TRIGGER IF EXISTS object_busy_sync ON objects;
DROP FUNCTION IF EXISTS object_busy_sync();
`,
};
