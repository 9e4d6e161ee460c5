// Expand: object_busy's index, built CONCURRENTLY (no lock writers wait for) while the table holds
// only the rows the trigger wrote since 0005, so it costs next to nothing; a timed-out attempt's
// INVALID leftover is dropped by the runner before the retry.
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 6,
  name: 'object-busy-index',
  phase: 'expand',
  transactional: false,
  sql: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS object_busy_time ON object_busy (collection_id, busy, last_end, first_start);',
};
