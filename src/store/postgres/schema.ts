// Kysely table types for the PostgreSQL schema created by ./migrations: the same tables as SQLite's
// (one definition, so the stores cannot drift apart), except that the change log's flag is a real
// boolean, plus the release tables SQLite keeps outside Kysely. Integers are bigint in the database and
// parsed to JavaScript numbers by the session (values stay below 2^53). Imports only SQLite's types.
import type { Generated } from 'kysely';
import type { SqliteDatabase } from '../sqlite/schema.ts';

export interface PostgresDatabase extends Omit<SqliteDatabase, 'changes'> {
  changes: Omit<SqliteDatabase['changes'], 'deleted'> & { deleted: boolean };
  release_expectations: {
    id: Generated<number>;
    version: string;
    migration_hash: string;
    window_from: number | null;
    window_until: number | null;
    approved_by: string;
    reason: string | null;
    created_at: number;
  };
  nodes: { id: string; version: string; migration_hash: string; host: string; pid: number; started_at: number; heartbeat_at: number };
}
