// The ordered list of SQLite migrations this release knows. Append only: the runner refuses a
// history whose applied entries were edited or reordered.
import type { SqliteMigration } from '../migrator.ts';
import { migration as initial } from './0001-initial.ts';

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [initial];
