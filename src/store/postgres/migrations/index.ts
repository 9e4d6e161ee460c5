// The ordered list of PostgreSQL migrations this release knows. Append only: the runner refuses a
// history whose applied entries were edited or reordered.
import type { PostgresMigration } from '../migrator.ts';
import { migration as initial } from './0001-initial.ts';
import { migration as changeLogAgeIndex } from './0002-change-log-age-index.ts';
import { migration as releaseState } from './0003-release-state.ts';
import { migration as backfillCheckpoints } from './0004-backfill-checkpoints.ts';
import { migration as objectBusy } from './0005-object-busy.ts';
import { migration as objectBusyIndex } from './0006-object-busy-index.ts';
import { migration as objectBusyBackfill } from './0007-object-busy-backfill.ts';
import { migration as nodeKnownMigration } from './0008-node-known-migration.ts';
import { migration as dropObjectBusyTrigger } from './0009-drop-object-busy-trigger.ts';
import { migration as objectTimeBox } from './0010-object-time-box.ts';

/** The oldest PostgreSQL schema this release can serve on without migrating (DESIGN.md §5.5). */
export const MINIMUM_SCHEMA_VERSION = 1;

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [initial, changeLogAgeIndex, releaseState, backfillCheckpoints, objectBusy, objectBusyIndex, objectBusyBackfill, nodeKnownMigration, dropObjectBusyTrigger, objectTimeBox];
