// Expand: what several nodes share about releases (DESIGN.md §6): the operator's release
// expectations and the node registry with heartbeats. `almanac release expect` may create the
// expectations table before this migration runs, hence IF NOT EXISTS.
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 3,
  name: 'release-state',
  phase: 'expand',
  sql: `
CREATE TABLE IF NOT EXISTS release_expectations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version text NOT NULL,
  migration_hash text NOT NULL,
  window_from bigint,
  window_until bigint,
  approved_by text NOT NULL,
  reason text,
  created_at bigint NOT NULL
);

CREATE TABLE nodes (
  id text PRIMARY KEY,
  version text NOT NULL,
  migration_hash text NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at bigint NOT NULL,
  heartbeat_at bigint NOT NULL
);
`,
};
