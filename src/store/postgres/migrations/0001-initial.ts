// Expand: the first PostgreSQL schema, the same shape as SQLite's migrations 1-5. Text that is
// compared or ordered (paths, names, labels, members) uses the "C" collation, so listings come out in
// byte order exactly as on SQLite whatever the database's default locale. Integers are bigint.
import type { PostgresMigration } from '../migrator.ts';

export const migration: PostgresMigration = {
  version: 1,
  name: 'initial',
  phase: 'expand',
  sql: `
CREATE TABLE store_meta (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  email text,
  display_name text,
  password_hash text,
  credentials_version bigint NOT NULL DEFAULT 1,
  created_at bigint NOT NULL
);

CREATE TABLE app_passwords (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label text COLLATE "C" NOT NULL,
  hash text NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint,
  UNIQUE (user_id, label)
);

CREATE TABLE collections (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  parent_id bigint REFERENCES collections(id) ON DELETE CASCADE,
  path text COLLATE "C" NOT NULL UNIQUE,
  kind text NOT NULL,
  sync_seq bigint NOT NULL DEFAULT 0,
  object_count bigint NOT NULL DEFAULT 0,
  child_count bigint NOT NULL DEFAULT 0,
  bytes_used bigint NOT NULL DEFAULT 0,
  sync_horizon bigint NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX collections_parent ON collections(parent_id);
CREATE INDEX collections_owner ON collections(owner_id);

CREATE TABLE objects (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  collection_id bigint NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  name text COLLATE "C" NOT NULL,
  content_type text NOT NULL,
  body bytea NOT NULL,
  etag text NOT NULL,
  size bigint NOT NULL,
  uid text COLLATE "C",
  component text,
  first_start bigint,
  last_end bigint,
  search_index text,
  created_at bigint NOT NULL,
  modified_at bigint NOT NULL,
  UNIQUE (collection_id, name)
);
-- The last line of defence for UID uniqueness across nodes: even a write that skipped the check
-- cannot commit a second object with the same UID in one collection.
CREATE UNIQUE INDEX objects_uid ON objects(collection_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX objects_time_range ON objects(collection_id, last_end, first_start);

CREATE TABLE changes (
  collection_id bigint NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  member text COLLATE "C" NOT NULL,
  deleted boolean NOT NULL,
  changed_at bigint NOT NULL,
  PRIMARY KEY (collection_id, seq)
);
CREATE INDEX changes_member ON changes(collection_id, member, seq);

CREATE TABLE collection_properties (
  collection_id bigint NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  name text COLLATE "C" NOT NULL,
  xml text NOT NULL,
  PRIMARY KEY (collection_id, name)
);

CREATE TABLE object_properties (
  object_id bigint NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  name text COLLATE "C" NOT NULL,
  xml text NOT NULL,
  PRIMARY KEY (object_id, name)
);
`,
};
