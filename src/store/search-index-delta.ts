// What both stores' Store.searchIndexSince share: turning the members the change log names (joined to
// their current row, or to none) into the changed and the removed ones. Imports only store types.
import type { SearchIndexDelta } from './store.ts';

export interface NamedMemberRow {
  readonly member: string;
  /** null when the member is not in the collection any more. */
  readonly id: number | null;
  readonly search_index: string | null;
}

export function changedAndRemoved(rows: readonly NamedMemberRow[]): Pick<SearchIndexDelta, 'members' | 'removed'> {
  const members: { name: string; searchIndex: string | null }[] = [];
  const removed: string[] = [];
  for (const row of rows) {
    if (row.id === null) removed.push(row.member);
    else members.push({ name: row.member, searchIndex: row.search_index });
  }
  return { members, removed };
}
