// Expand: the change log's age index for the pruner, built the online way: CREATE INDEX CONCURRENTLY
// takes no lock that blocks writes, cannot run inside a transaction, and may leave an INVALID index
// when it times out, which the runner drops before retrying (hence IF NOT EXISTS and transactional
// false).
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 2,
  name: 'change-log-age-index',
  phase: 'expand',
  transactional: false,
  sql: `
CREATE INDEX CONCURRENTLY IF NOT EXISTS changes_age ON changes(changed_at);
`,
};
