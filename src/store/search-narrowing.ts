// The SQL condition of a search-index narrowing (types.ts SearchNarrowing), one definition for both
// stores so they keep the same rows: plain substring tests on the stored index text (SQLite instr,
// PostgreSQL strpos: both exact and case-sensitive), rows lacking the marker always kept. Imports
// only Kysely's sql template and the store types.
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { SearchNarrowing } from './types.ts';

/** `position` is the backend's substring-position function: instr (SQLite) or strpos (PostgreSQL). */
export function narrowingCondition(narrowing: SearchNarrowing, position: 'instr' | 'strpos'): RawBuilder<SqlBool> {
  const fn = sql.raw(position);
  const contains = (text: string): RawBuilder<SqlBool> => sql<SqlBool>`${fn}(search_index, ${text}) > 0`;
  // A clause with no strings keeps no row (none of its strings is contained).
  const clause = (strings: readonly string[]): RawBuilder<SqlBool> =>
    strings.length === 0 ? sql<SqlBool>`1 = 0` : sql<SqlBool>`(${sql.join(strings.map(contains), sql` or `)})`;
  const all = narrowing.clauses.length === 0 ? sql<SqlBool>`1 = 1` : sql.join(narrowing.clauses.map(clause), sql` and `);
  return sql<SqlBool>`search_index is not null and (${fn}(search_index, ${narrowing.marker}) = 0 or (${all}))`;
}
