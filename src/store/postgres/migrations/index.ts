// The ordered list of PostgreSQL migrations this release knows. Append only: the runner refuses a
// history whose applied entries were edited or reordered.
import type { PostgresMigration } from '../migrator.ts';
import { migration as initial } from './0001-initial.ts';
import { migration as changeLogAgeIndex } from './0002-change-log-age-index.ts';
import { migration as releaseState } from './0003-release-state.ts';

/** The oldest PostgreSQL schema this release can serve on without migrating (DESIGN.md §5.5). */
export const MINIMUM_SCHEMA_VERSION = 1;

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [initial, changeLogAgeIndex, releaseState];
