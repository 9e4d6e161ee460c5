// Backfill: one object_busy row for every object older than 0005, in key order, in batches run by one
// node in the background. The same code-declared backfill as SQLite's 0010 (the iCalendar domain's
// own mayBeBusy rule), so both stores and the write path can never disagree. Until it is recorded as
// applied the store does not narrow free-busy-query with object_busy (a missing row would hide busy time).
import { migration as sqliteBusyBackfill } from '../../sqlite/migrations/0010-object-busy-backfill.ts';
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 7,
  name: 'object-busy-backfill',
  phase: 'backfill',
  sql: sqliteBusyBackfill.sql,
  ...(sqliteBusyBackfill.backfill === undefined ? {} : { backfill: sqliteBusyBackfill.backfill }),
};
