// This build's release identity: its version (package.json) and the hash of the migration sets it
// ships — SQLite's and PostgreSQL's together, since one release artifact carries both (docs/migrations.md)
// — which together are what an operator approves with `almanac release expect`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PostgresMigration } from '../store/postgres/migrator.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import { migrationChecksum, type SqliteMigration } from '../store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import type { ReleaseIdentity } from '../store/sqlite/release-state.ts';

/** Same relative path from src/release/ and from the compiled dist/release/. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

export interface MigrationSets {
  readonly sqlite: readonly SqliteMigration[];
  readonly postgres: readonly PostgresMigration[];
}

/**
 * One hash over both stores' migration sets, each line prefixed by its store: changing a migration of
 * either store makes a different release, whichever store a deployment runs on.
 */
export function migrationSetHash(sets: MigrationSets = { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS }): string {
  const hash = createHash('sha256');
  for (const migration of sets.sqlite) hash.update(`sqlite ${migration.version}:${migrationChecksum(migration)}\n`);
  for (const migration of sets.postgres) hash.update(`postgres ${migration.version}:${migrationChecksum(migration)}\n`);
  return hash.digest('hex');
}

export function currentReleaseIdentity(): ReleaseIdentity {
  return { version: packageVersion(), migrationHash: migrationSetHash() };
}
