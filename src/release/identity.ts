// This build's release identity: its version (package.json) and the hash of the migration set it
// ships, which together are what an operator approves with `almanac release expect`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { migrationChecksum } from '../store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import type { ReleaseIdentity } from '../store/sqlite/release-state.ts';

/** Same relative path from src/release/ and from the compiled dist/release/. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

export function migrationSetHash(migrations = SQLITE_MIGRATIONS): string {
  const hash = createHash('sha256');
  for (const migration of migrations) hash.update(`${migration.version}:${migrationChecksum(migration)}\n`);
  return hash.digest('hex');
}

export function currentReleaseIdentity(): ReleaseIdentity {
  return { version: packageVersion(), migrationHash: migrationSetHash() };
}
