// The resources the server exposes, as a discriminated union so every switch over them is exhaustive.
// Store collections carry their own kind (calendar, addressbook, files, homes), which plugins inspect.
// Imports only store types.
import type { CollectionKind, CollectionRecord, ObjectRecord, UserRecord } from '../store/types.ts';

/** Top-level namespaces under '/'. Each holds one home per user. */
export const SPACES = ['calendars', 'addressbooks', 'files'] as const;
export type Space = (typeof SPACES)[number];

export type Resource =
  | { readonly kind: 'root'; readonly path: '/' }
  | { readonly kind: 'principals'; readonly path: '/principals/' }
  | { readonly kind: 'principal'; readonly path: string; readonly user: UserRecord }
  | { readonly kind: 'space'; readonly path: string; readonly space: Space }
  | { readonly kind: 'collection'; readonly path: string; readonly collection: CollectionRecord }
  | { readonly kind: 'object'; readonly path: string; readonly collection: CollectionRecord; readonly object: ObjectRecord };

export function isCollectionLike(resource: Resource): boolean {
  return resource.kind !== 'object';
}

export function principalPath(userName: string): string {
  return `/principals/${userName}/`;
}

export function homePath(space: Space, userName: string): string {
  return `/${space}/${userName}/`;
}

/** Collection kinds that hold objects directly; homes hold collections only. */
export const OBJECT_HOLDERS: ReadonlySet<CollectionKind> = new Set(['files-home', 'files', 'calendar', 'addressbook']);
