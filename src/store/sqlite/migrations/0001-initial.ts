// Expand: the first schema. Tables are STRICT so a wrong type is an error, not silent coercion.
import type { SqliteMigration } from '../migrator.ts';

export const migration: SqliteMigration = {
  version: 1,
  name: 'initial',
  phase: 'expand',
  sql: `
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  email TEXT,
  display_name TEXT,
  password_hash TEXT,
  credentials_version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE app_passwords (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  UNIQUE (user_id, label)
) STRICT;

CREATE TABLE collections (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  parent_id INTEGER REFERENCES collections(id) ON DELETE CASCADE,
  path TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  sync_seq INTEGER NOT NULL DEFAULT 0,
  object_count INTEGER NOT NULL DEFAULT 0,
  child_count INTEGER NOT NULL DEFAULT 0,
  bytes_used INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX collections_parent ON collections(parent_id);
CREATE INDEX collections_owner ON collections(owner_id);

CREATE TABLE objects (
  id INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  body BLOB NOT NULL,
  etag TEXT NOT NULL,
  size INTEGER NOT NULL,
  uid TEXT,
  component TEXT,
  first_start INTEGER,
  last_end INTEGER,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  UNIQUE (collection_id, name)
) STRICT;
CREATE UNIQUE INDEX objects_uid ON objects(collection_id, uid) WHERE uid IS NOT NULL;

CREATE TABLE changes (
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  member TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  changed_at INTEGER NOT NULL,
  PRIMARY KEY (collection_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE collection_properties (
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  xml TEXT NOT NULL,
  PRIMARY KEY (collection_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE object_properties (
  object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  xml TEXT NOT NULL,
  PRIMARY KEY (object_id, name)
) STRICT, WITHOUT ROWID;
`,
};
