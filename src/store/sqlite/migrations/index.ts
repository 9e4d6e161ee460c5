// The ordered list of SQLite migrations this release knows. Append only: the runner refuses a
// history whose applied entries were edited or reordered.
import type { SqliteMigration } from '../migrator.ts';
import { migration as initial } from './0001-initial.ts';
import { migration as objectTimeIndex } from './0002-object-time-index.ts';
import { migration as syncHorizon } from './0003-sync-horizon.ts';
import { migration as searchIndex } from './0004-search-index.ts';
import { migration as changeLogIndexes } from './0005-change-log-indexes.ts';

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [initial, objectTimeIndex, syncHorizon, searchIndex, changeLogIndexes];
