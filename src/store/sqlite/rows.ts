// Row ↔ record mapping for the SQLite store. Imports only store types.
import type { CollectionKind, CollectionRecord, ObjectRecord, UserRecord } from '../types.ts';

export const COLLECTION_COLUMNS = [
  'id', 'owner_id', 'parent_id', 'path', 'kind', 'sync_seq', 'object_count', 'child_count', 'bytes_used', 'created_at', 'updated_at',
] as const;

export const OBJECT_COLUMNS = [
  'id', 'collection_id', 'name', 'content_type', 'etag', 'size', 'uid', 'component', 'created_at', 'modified_at',
] as const;

/** The object columns named as ObjectRecord's fields, so a row is the record without copying it. */
export const OBJECT_RECORD_COLUMNS = [
  'id', 'collection_id as collectionId', 'name', 'content_type as contentType', 'etag', 'size', 'uid', 'component',
  'created_at as createdAt', 'modified_at as modifiedAt',
] as const;

export const USER_COLUMNS = ['id', 'name', 'email', 'display_name', 'created_at'] as const;

export interface CollectionRow {
  id: number; owner_id: number; parent_id: number | null; path: string; kind: string; sync_seq: number;
  object_count: number; child_count: number; bytes_used: number; created_at: number; updated_at: number;
}

export interface ObjectRow {
  id: number; collection_id: number; name: string; content_type: string; etag: string; size: number;
  uid: string | null; component: string | null; created_at: number; modified_at: number;
}

export function toCollection(row: CollectionRow): CollectionRecord {
  return {
    id: row.id,
    ownerId: row.owner_id,
    parentId: row.parent_id,
    path: row.path,
    kind: row.kind as CollectionKind,
    syncSeq: row.sync_seq,
    objectCount: row.object_count,
    childCount: row.child_count,
    bytesUsed: row.bytes_used,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toObject(row: ObjectRow): ObjectRecord {
  return {
    id: row.id,
    collectionId: row.collection_id,
    name: row.name,
    contentType: row.content_type,
    etag: row.etag,
    size: row.size,
    uid: row.uid,
    component: row.component,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

export function toUser(row: { id: number; name: string; email: string | null; display_name: string | null; created_at: number }): UserRecord {
  return { id: row.id, name: row.name, email: row.email, displayName: row.display_name, createdAt: row.created_at };
}

/** Last segment of a collection path ('/a/b/' → 'b'). */
export function lastSegment(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
