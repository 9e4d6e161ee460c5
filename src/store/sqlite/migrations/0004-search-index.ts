// Expand: searchable values of a contact (FN, N, EMAIL, TEL, NICKNAME, ORG, UID) extracted at write
// time as JSON, so an addressbook-query over thousands of cards does not parse each one. A nullable
// ADD COLUMN does not rewrite the table in SQLite.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 4,
  name: 'search-index',
  phase: 'expand',
  sql: `
ALTER TABLE objects ADD COLUMN search_index TEXT;
`,
};
