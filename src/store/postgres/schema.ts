// Kysely table types for the PostgreSQL schema created by ./migrations. Integers are bigint in the
// database and parsed to JavaScript numbers by the session (values stay below 2^53). Imports nothing
// of ours.
import type { Generated } from 'kysely';

export interface PostgresDatabase {
  store_meta: { key: string; value: string };
  schema_migrations: { version: number; name: string; phase: string; checksum: string; applied_at: number };
  users: {
    id: Generated<number>;
    name: string;
    email: string | null;
    display_name: string | null;
    password_hash: string | null;
    credentials_version: Generated<number>;
    created_at: number;
  };
  app_passwords: {
    id: Generated<number>;
    user_id: number;
    label: string;
    hash: string;
    created_at: number;
    last_used_at: number | null;
  };
  collections: {
    id: Generated<number>;
    owner_id: number;
    parent_id: number | null;
    path: string;
    kind: string;
    sync_seq: Generated<number>;
    object_count: Generated<number>;
    child_count: Generated<number>;
    bytes_used: Generated<number>;
    sync_horizon: Generated<number>;
    created_at: number;
    updated_at: number;
  };
  objects: {
    id: Generated<number>;
    collection_id: number;
    name: string;
    content_type: string;
    body: Uint8Array;
    etag: string;
    size: number;
    uid: string | null;
    component: string | null;
    first_start: number | null;
    last_end: number | null;
    search_index: string | null;
    created_at: number;
    modified_at: number;
  };
  changes: { collection_id: number; seq: number; member: string; deleted: boolean; changed_at: number };
  collection_properties: { collection_id: number; name: string; xml: string };
  object_properties: { object_id: number; name: string; xml: string };
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
