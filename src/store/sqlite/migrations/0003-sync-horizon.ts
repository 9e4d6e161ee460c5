// Expand: the position below which a collection's change log was pruned. Tokens older than it are
// refused (RFC 6578 §3.2 valid-sync-token) so clients resync instead of missing deletions. ADD COLUMN
// with a constant default does not rewrite the table in SQLite: safe online on any size.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 3,
  name: 'sync-horizon',
  phase: 'expand',
  sql: `
ALTER TABLE collections ADD COLUMN sync_horizon INTEGER NOT NULL DEFAULT 0;
`,
};
