// The ordered list of SQLite migrations this release knows. Append only: the runner refuses a
// history whose applied entries were edited or reordered.
import type { SqliteMigration } from '../migrator.ts';
import { migration as initial } from './0001-initial.ts';
import { migration as objectTimeIndex } from './0002-object-time-index.ts';
import { migration as syncHorizon } from './0003-sync-horizon.ts';
import { migration as searchIndex } from './0004-search-index.ts';
import { migration as changeLogIndexes } from './0005-change-log-indexes.ts';
import { migration as releaseExpectations } from './0006-release-expectations.ts';
import { migration as nodes } from './0007-nodes.ts';
import { migration as backfillCheckpoints } from './0008-backfill-checkpoints.ts';
import { migration as objectBusy } from './0009-object-busy.ts';
import { migration as objectBusyBackfill } from './0010-object-busy-backfill.ts';
import { migration as migrationRehearsals } from './0011-migration-rehearsals.ts';
import { migration as nodeKnownMigration } from './0012-node-known-migration.ts';
import { migration as dropObjectBusyTriggers } from './0013-drop-object-busy-triggers.ts';
import { migration as objectTimeTree } from './0014-object-time-tree.ts';
import { migration as objectTimeTreeBackfill } from './0015-object-time-tree-backfill.ts';

/**
 * The oldest schema this release can serve on (DESIGN.md §5.5): a node whose release was not
 * expected runs no DDL and keeps serving as long as the database has at least this version.
 * Raise it only when code starts to need a newer migration, and never past the previous release's.
 */
export const MINIMUM_SCHEMA_VERSION = 4;

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [initial, objectTimeIndex, syncHorizon, searchIndex, changeLogIndexes, releaseExpectations, nodes, backfillCheckpoints, objectBusy, objectBusyBackfill, migrationRehearsals, nodeKnownMigration, dropObjectBusyTriggers, objectTimeTree, objectTimeTreeBackfill];
