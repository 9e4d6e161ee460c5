// Expand: the checkpoint table of backfills (DESIGN.md §6): per backfill its last key done, counts,
// rate, pause flag and the claiming node with its heartbeat, shared by every node and the CLI.
// `almanac migrate pause` may create it before this migration runs, hence IF NOT EXISTS.
import { BACKFILL_TABLE_SQL } from '../backfill.ts';
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 4,
  name: 'backfill-checkpoints',
  phase: 'expand',
  sql: `${BACKFILL_TABLE_SQL};`,
};
