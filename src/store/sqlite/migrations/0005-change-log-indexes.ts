// Expand: indexes for pruning the change log — by age, and by member so "a later change of the same
// member exists" is a lookup. Both tables are young in every deployment so far; later index builds
// on big tables go through the online shadow-table pattern.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 5,
  name: 'change-log-indexes',
  phase: 'expand',
  sql: `
CREATE INDEX changes_member ON changes(collection_id, member, seq);
CREATE INDEX changes_age ON changes(changed_at);
`,
};
