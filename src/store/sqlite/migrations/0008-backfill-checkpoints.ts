// Expand: the checkpoint table of backfills declared in code (DESIGN.md §6). Each backfill's last
// key done, its counters and rate, the pause flag `almanac migrate pause` sets, and which node runs
// it. The runner and the pause command create it too (IF NOT EXISTS) so they work on any schema.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 8,
  name: 'backfill-checkpoints',
  phase: 'expand',
  sql: `
CREATE TABLE IF NOT EXISTS migration_backfills (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  last_key INTEGER,
  rows_done INTEGER NOT NULL DEFAULT 0,
  rows_total INTEGER NOT NULL DEFAULT 0,
  batches INTEGER NOT NULL DEFAULT 0,
  batch_size INTEGER NOT NULL,
  rows_per_second REAL,
  longest_lock_ms REAL NOT NULL DEFAULT 0,
  throttled INTEGER NOT NULL DEFAULT 0,
  owner TEXT,
  owner_heartbeat_at INTEGER,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;
`,
};
