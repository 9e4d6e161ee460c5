// The release identity's migration hash covers both stores' migration sets: one release artifact
// ships both, so changing a migration of either store makes another release.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import { currentReleaseIdentity, migrationSetHash } from './identity.ts';

void it('hashes the SQLite and the PostgreSQL migration sets together', () => {
  const shipped = migrationSetHash();
  assert.equal(currentReleaseIdentity().migrationHash, shipped);
  const editedSql = (sql: string): string => `${sql}\n-- edited`;
  const lastPostgres = POSTGRES_MIGRATIONS.at(-1)!;
  const lastSqlite = SQLITE_MIGRATIONS.at(-1)!;
  const postgresChanged = migrationSetHash({ sqlite: SQLITE_MIGRATIONS, postgres: [...POSTGRES_MIGRATIONS.slice(0, -1), { ...lastPostgres, sql: editedSql(lastPostgres.sql) }] });
  const sqliteChanged = migrationSetHash({ sqlite: [...SQLITE_MIGRATIONS.slice(0, -1), { ...lastSqlite, sql: editedSql(lastSqlite.sql) }], postgres: POSTGRES_MIGRATIONS });
  assert.notEqual(postgresChanged, shipped, 'a PostgreSQL migration is part of the release');
  assert.notEqual(sqliteChanged, shipped, 'a SQLite migration is part of the release');
  assert.notEqual(postgresChanged, sqliteChanged);
  // Each line names its store: the same migrations filed under the other store hash differently.
  assert.notEqual(migrationSetHash({ sqlite: [], postgres: SQLITE_MIGRATIONS }), migrationSetHash({ sqlite: SQLITE_MIGRATIONS, postgres: [] }));
  // A contract step's declaration is part of what was released.
  const contract = SQLITE_MIGRATIONS.find((m) => m.phase === 'contract')!;
  assert.notEqual(migrationSetHash({ sqlite: SQLITE_MIGRATIONS.map((m) => (m === contract ? { ...m, safeOnceNodesKnow: 11 } : m)), postgres: POSTGRES_MIGRATIONS }), shipped);
});
