// Backfill: one object_busy row for every object that existed before 0009 (later ones get theirs from
// the write path and the triggers). Parses calendar objects with the iCalendar domain's own rule
// (mayBeBusy), so the backfill and the write path can never disagree. Idempotent: it writes what the
// current body says, whatever was there. Until it is recorded as applied, the store does not use
// object_busy to narrow free-busy-query (a missing row would hide busy time).
import { mayBeBusy } from '../../../ical/freebusy.ts';
import { decodeCalendarBytes, parseCalendar } from '../../../ical/parse.ts';
import type { SqliteMigration } from '../migrator.ts';

function busyOf(row: Readonly<Record<string, unknown>>): number {
  if (row.component !== 'VEVENT' && row.component !== 'VFREEBUSY') return 0;
  try {
    return mayBeBusy(parseCalendar(decodeCalendarBytes(row.body as Uint8Array))) ? 1 : 0;
  } catch {
    return -1; // stored before validation was this strict: let free-busy look at it each time
  }
}

export const migration: SqliteMigration = {
  version: 10,
  name: 'object-busy-backfill',
  phase: 'backfill',
  sql: '-- backfill object_busy (collection_id, busy, first_start, last_end) from objects, in key order; revision 1',
  backfill: {
    table: 'objects',
    key: 'id',
    columns: ['collection_id', 'component', 'body', 'first_start', 'last_end'],
    into: { table: 'object_busy', key: 'object_id' },
    derive: (row) => ({ collection_id: row.collection_id as number, busy: busyOf(row), first_start: row.first_start as number | null, last_end: row.last_end as number | null }),
  },
};
