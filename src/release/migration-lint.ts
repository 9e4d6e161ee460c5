// The migration lint (`almanac migrate lint`, and a test over every migration): rejects SQLite
// statements that are unsafe in their migration's phase and says what to do instead. May import
// src/store (migration types and checksum); must not import src/dav, src/http or the CLI.
import { migrationChecksum, type MigrationPhase, type SqliteMigration } from '../store/sqlite/migrator.ts';
import { splitSqlStatements, type SqlStatement, type SqlToken } from './sql-statements.ts';

/*
 * The rules, and why each exists. "Existing table" means one the migration did not create itself
 * (nor listed in context.newTables); "small" means context.tableSizes knows it has at most
 * context.largeTableRows rows (default 10,000). The runner applies each migration in ONE write
 * transaction, so whatever a statement costs is time the whole server waits (budget: 100 ms).
 *
 * Every phase
 * - syntax (error): the SQL ends inside a string, quoted name or trigger body; SQLite refuses it.
 * - unclassified (warning): the lint does not know the statement, so it cannot vouch for it.
 * - transaction-control (error): BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE/END; the runner owns the
 *   transaction that also records the migration, so a migration must not end or nest it.
 * - vacuum (error): rewrites the whole database under an exclusive lock; cannot run in a transaction.
 * - writable-schema (error): PRAGMA writable_schema edits sqlite_schema by hand and can corrupt it.
 * - pragma (warning): other pragmas only affect the runner's connection or are no-ops inside a
 *   transaction (foreign_keys, journal_mode); connection settings belong to the store.
 * - analyze, reindex (error): read every index / rebuild indexes under the write lock.
 * - no-effect (warning): a SELECT changes nothing.
 * - temp-object (warning): a TEMP table/view/trigger vanishes with the runner's connection.
 * - table-rebuild (error): copying table T into another and dropping or renaming T away in the same
 *   migration is SQLite's 12-step ALTER, which holds the write lock for the whole copy; it must be
 *   a shadow table spread over the phases instead.
 * - add-column-unique, add-column-stored (error): SQLite always refuses ADD COLUMN with PRIMARY
 *   KEY/UNIQUE, or a STORED generated column.
 * - add-column-not-null-without-default, add-column-non-constant-default (e.g. CURRENT_TIMESTAMP,
 *   `(expr)`), add-column-references-default (REFERENCES with a non-NULL DEFAULT while foreign keys
 *   are on) (error): SQLite refuses these only when the table has rows, so they pass on an empty
 *   test database and fail in production.
 * - add-column-scans-table (error, or warning when the lint does not know whether the table is
 *   STRICT): ADD COLUMN on a STRICT table, or with a CHECK constraint, or as a NOT NULL generated
 *   column, makes SQLite verify every existing row (pragma_quick_check) inside the transaction:
 *   ~0.3 s per million small rows measured, unbounded on a big table.
 * - index-on-existing-table (error): SQLite has no concurrent index build; CREATE INDEX on a big
 *   table holds the write lock for the whole build (~0.7 s per million rows). Allowed on a table
 *   created in the same migration, or a small one; otherwise a shadow table.
 * - unique-index-on-existing-table (error; warning on a small table): also fails the release on the
 *   first duplicate row; duplicates must be removed by a backfill first.
 *
 * expand (additive, runs online at start, while the previous release still serves)
 * - Allowed: CREATE TABLE/VIEW/TRIGGER, CREATE INDEX as above, ADD COLUMN as above, INSERT/UPDATE/
 *   DELETE on tables created in the same migration (seed rows).
 * - drop-in-expand, rename-in-expand (error): the previous release still uses the name.
 * - dml-in-expand (error): UPDATE/DELETE of an existing table, or copying rows out of existing
 *   tables (INSERT … SELECT, CREATE TABLE … AS SELECT): unbatched data work is a backfill.
 * - seed-existing-table (warning): INSERT … VALUES into an existing table changes what the running
 *   release reads; fine for a meta row, otherwise a backfill.
 *
 * backfill (data only, in batches, in the background)
 * - ddl-in-backfill (error): any schema change; those belong to expand or contract.
 * - unbounded-backfill (error): UPDATE/DELETE/INSERT … SELECT without a LIMIT or a WHERE that bounds
 *   a key (rowid or primary key: BETWEEN, both < and >, =, IN) cannot be run in batches.
 *
 * contract (destructive, only by explicit command once no live node needs the old shape)
 * - Allowed: DROP TABLE/INDEX/VIEW/TRIGGER, RENAME table/column.
 * - create-in-contract (warning): additive DDL belongs in expand, which runs online.
 * - dml-in-contract (warning): data changes belong in a (batched) backfill.
 * - drop-column-rewrites-table (error): SQLite's DROP COLUMN rewrites every row (~2.5-3.3 s per
 *   million rows measured); leave the column unused or go through a shadow table.
 * - drop-large-table (warning): DROP TABLE frees every page under the write lock (~0.15 s per
 *   million small rows measured); empty a big table in batches first.
 */

export type LintSeverity = 'error' | 'warning';

export type LintRule =
  | 'syntax'
  | 'unclassified'
  | 'transaction-control'
  | 'vacuum'
  | 'writable-schema'
  | 'pragma'
  | 'analyze'
  | 'reindex'
  | 'no-effect'
  | 'temp-object'
  | 'table-rebuild'
  | 'add-column-unique'
  | 'add-column-stored'
  | 'add-column-not-null-without-default'
  | 'add-column-non-constant-default'
  | 'add-column-references-default'
  | 'add-column-scans-table'
  | 'index-on-existing-table'
  | 'unique-index-on-existing-table'
  | 'drop-in-expand'
  | 'rename-in-expand'
  | 'dml-in-expand'
  | 'seed-existing-table'
  | 'ddl-in-backfill'
  | 'unbounded-backfill'
  | 'create-in-contract'
  | 'dml-in-contract'
  | 'drop-column-rewrites-table'
  | 'drop-large-table';

export interface LintFinding {
  readonly version: number;
  readonly name: string;
  /** The statement, whitespace collapsed, cut to a readable length. */
  readonly statement: string;
  /** 1-based line of the statement in the migration's SQL. */
  readonly line: number;
  readonly rule: LintRule;
  /** What is wrong and what to do instead. */
  readonly message: string;
  readonly severity: LintSeverity;
}

/** What the lint knows of a table that exists before the migration. */
export interface TableShape {
  readonly strict: boolean;
  /** Lower-case column names of the primary key (empty when only the rowid). */
  readonly primaryKey: readonly string[];
}

/**
 * A finding of a migration that was released before the lint could object, kept as a warning.
 * Pinned to the migration's checksum, so it never covers an edited migration.
 */
export interface AcceptedFinding {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly rule: LintRule;
  readonly reason: string;
}

export interface LintContext {
  /** Row counts of existing tables (e.g. from the live database during a rehearsal). */
  readonly tableSizes?: ReadonlyMap<string, number>;
  /** Tables known to be empty and unused by any release (created by an earlier pending migration). */
  readonly newTables?: ReadonlySet<string>;
  /** Shapes of the existing tables; lintMigrations derives them from the earlier migrations. */
  readonly tables?: ReadonlyMap<string, TableShape>;
  /** Tables up to this many rows may be indexed or altered in place. Default 10,000. */
  readonly largeTableRows?: number;
  /** Default: ACCEPTED_FINDINGS. */
  readonly accepted?: readonly AcceptedFinding[];
}

export const DEFAULT_LARGE_TABLE_ROWS = 10_000;

/**
 * Tables whose row count is bounded by what they record, not by how much users store: nodes holds
 * one row per serving process (hundreds at most, crashed ones included). The lint treats them as
 * small unless context.tableSizes says otherwise. Only for tables that can never grow with user data.
 */
export const BOUNDED_TABLES: ReadonlySet<string> = new Set(['nodes']);

/**
 * Migrations 2-5 were released before this lint. Their history cannot change (the runner refuses
 * an edited migration), so what the lint now objects to stays visible as a warning. Adding an
 * entry for a new migration defeats the lint: fix the migration instead.
 */
export const ACCEPTED_FINDINGS: readonly AcceptedFinding[] = [
  {
    version: 2,
    name: 'object-time-index',
    checksum: '556005cb28f54ff9c08bb806b6ec356384120c877d7a759d5b94b336db721643',
    rule: 'index-on-existing-table',
    reason: 'built while objects was small in every deployment: no release with calendar data predates it',
  },
  {
    version: 3,
    name: 'sync-horizon',
    checksum: '31bfd1d8f673e8000c53915ffd86ad2c218336deada21c8c132a44022889d8d6',
    rule: 'add-column-scans-table',
    reason: 'collections holds one row per collection, not per object: the scan is short',
  },
  {
    version: 4,
    name: 'search-index',
    checksum: '9c5950a6ea0f0528dbefd9244eb204d8f3f5dee5a7e97243bbe5543568a39e6a',
    rule: 'add-column-scans-table',
    reason: 'released before the lint knew ADD COLUMN checks every row of a STRICT table; the scan ran once per deployment',
  },
  {
    version: 5,
    name: 'change-log-indexes',
    checksum: '32e6f0a8fd11193be7aa88cdc1044cf8f1e4a90e1ec2ebf07eaa3425f0d6ea53',
    rule: 'index-on-existing-table',
    reason: 'built while changes was young in every deployment',
  },
];

// ---------------------------------------------------------------------------------------------
// Reading statements

type DropTarget = 'TABLE' | 'INDEX' | 'VIEW' | 'TRIGGER';

interface ColumnFacts {
  readonly primaryKeyOrUnique: boolean;
  readonly notNull: boolean;
  readonly check: boolean;
  readonly references: boolean;
  readonly generated: boolean;
  readonly stored: boolean;
  /** 'none', 'null', 'constant', or the non-constant expression as written. */
  readonly defaultValue: 'none' | 'null' | 'constant' | { readonly expression: string };
}

type Parsed =
  | { readonly kind: 'create-table'; readonly table: string; readonly temp: boolean; readonly shape: TableShape; readonly copiesFrom: readonly string[] }
  | { readonly kind: 'create-index'; readonly table: string; readonly unique: boolean }
  | { readonly kind: 'create-trigger' | 'create-view'; readonly temp: boolean }
  | { readonly kind: 'add-column'; readonly table: string; readonly column: string; readonly facts: ColumnFacts }
  | { readonly kind: 'rename-table'; readonly table: string; readonly to: string }
  | { readonly kind: 'rename-column'; readonly table: string; readonly column: string; readonly to: string }
  | { readonly kind: 'drop-column'; readonly table: string; readonly column: string }
  | { readonly kind: 'drop'; readonly target: DropTarget; readonly name: string }
  | { readonly kind: 'insert'; readonly table: string; readonly source: 'values' | 'select'; readonly copiesFrom: readonly string[]; readonly bounded: boolean }
  | { readonly kind: 'update' | 'delete'; readonly table: string; readonly bounded: boolean }
  | { readonly kind: 'select' | 'vacuum' | 'analyze' | 'reindex' }
  | { readonly kind: 'pragma'; readonly pragma: string }
  | { readonly kind: 'transaction'; readonly word: string }
  | { readonly kind: 'unknown' };

const ROWID_NAMES = ['rowid', 'oid', '_rowid_'];
// Words that end a FROM list's table name, so they are not read as an alias.
const NOT_ALIASES = new Set([
  'WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'WINDOW', 'UNION', 'INTERSECT', 'EXCEPT', 'JOIN', 'LEFT', 'RIGHT', 'FULL', 'INNER',
  'CROSS', 'NATURAL', 'OUTER', 'ON', 'USING', 'RETURNING', 'SET', 'VALUES', 'SELECT', 'INDEXED', 'NOT', 'DO',
]);
// Words that end a WHERE clause at its own level.
const AFTER_WHERE = new Set(['GROUP', 'HAVING', 'WINDOW', 'ORDER', 'LIMIT', 'RETURNING', 'UNION', 'INTERSECT', 'EXCEPT', 'ON']);
const CONFLICT_WORDS = new Set(['ROLLBACK', 'ABORT', 'REPLACE', 'FAIL', 'IGNORE']);

function isWord(token: SqlToken | undefined, ...words: string[]): boolean {
  return token?.kind === 'word' && words.includes(token.value);
}

function isPunct(token: SqlToken | undefined, ...texts: string[]): boolean {
  return token?.kind === 'punct' && texts.includes(token.text);
}

function isNameToken(token: SqlToken | undefined): token is SqlToken {
  return token !== undefined && (token.kind === 'word' || token.kind === 'quoted' || token.kind === 'string');
}

/** SQLite compares names case-insensitively; the lint keeps them in lower case. */
function nameOf(token: SqlToken): string {
  return (token.kind === 'word' ? token.text : token.value).toLowerCase();
}

/** A possibly schema-qualified name at `i`: the name without its schema, and the index after it. */
function qualifiedName(tokens: readonly SqlToken[], i: number): { readonly name: string; readonly end: number } | null {
  const first = tokens[i];
  if (!isNameToken(first)) return null;
  const last = tokens[i + 2];
  if (isPunct(tokens[i + 1], '.') && isNameToken(last)) return { name: nameOf(last), end: i + 3 };
  return { name: nameOf(first), end: i + 1 };
}

/** The index of the `)` closing the `(` at `open`, or the length when it is never closed. */
function closingParen(tokens: readonly SqlToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i += 1) {
    if (isPunct(tokens[i], '(')) depth += 1;
    else if (isPunct(tokens[i], ')')) {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return tokens.length;
}

/** Indexes of the tokens at parenthesis depth 0 of `tokens`. */
function topLevel(tokens: readonly SqlToken[]): number[] {
  const indexes: number[] = [];
  let depth = 0;
  tokens.forEach((token, i) => {
    if (isPunct(token, '(')) depth += 1;
    else if (isPunct(token, ')')) depth -= 1;
    else if (depth === 0) indexes.push(i);
  });
  return indexes;
}

function topLevelWord(tokens: readonly SqlToken[], word: string): number {
  return topLevel(tokens).find((i) => isWord(tokens[i], word)) ?? -1;
}

/** The pieces of a parenthesized list, split at its top-level commas. */
function splitList(tokens: readonly SqlToken[]): SqlToken[][] {
  const parts: SqlToken[][] = [[]];
  let depth = 0;
  for (const token of tokens) {
    if (isPunct(token, '(')) depth += 1;
    if (isPunct(token, ')')) depth -= 1;
    if (depth === 0 && isPunct(token, ',')) parts.push([]);
    else parts[parts.length - 1]?.push(token);
  }
  return parts.filter((part) => part.length > 0);
}

/** Tables read through FROM and JOIN anywhere in `tokens`, without the names of CTEs. */
function tablesRead(tokens: readonly SqlToken[], ctes: ReadonlySet<string>): string[] {
  const tables = new Set<string>();
  tokens.forEach((token, i) => {
    if (!isWord(token, 'FROM', 'JOIN')) return;
    let j = i + 1;
    for (;;) {
      if (isPunct(tokens[j], '(')) {
        j = closingParen(tokens, j) + 1; // a subquery: the outer loop reads its FROM itself
      } else {
        const table = qualifiedName(tokens, j);
        if (table === null) return;
        if (isPunct(tokens[table.end], '(')) {
          j = closingParen(tokens, table.end) + 1; // a table-valued function
        } else {
          if (!ctes.has(table.name)) tables.add(table.name);
          j = table.end;
        }
      }
      if (isWord(tokens[j], 'AS')) j += 2;
      else if (isNameToken(tokens[j]) && !isWord(tokens[j], ...NOT_ALIASES)) j += 1;
      if (!isPunct(tokens[j], ',')) return;
      j += 1;
    }
  });
  return [...tables];
}

/** A value a batch bound may compare a key with: a literal, a parameter, or arithmetic of those. */
function isBoundValue(tokens: readonly SqlToken[], i: number): boolean {
  const token = tokens[i];
  if (token === undefined) return false;
  if (token.kind === 'number' || token.kind === 'param' || token.kind === 'string' || token.kind === 'blob') return true;
  if (isPunct(token, '-', '+')) return isBoundValue(tokens, i + 1);
  if (isPunct(token, '(')) {
    const inner = tokens.slice(i + 1, closingParen(tokens, i));
    return inner.length > 0 && inner.every((t) => t.kind === 'number' || t.kind === 'param' || t.kind === 'punct');
  }
  return false;
}

/**
 * Whether a WHERE clause bounds the rows a statement touches by a key: `key BETWEEN a AND b`,
 * `key >= a AND key < b`, `key = a`, `key IN (list)` or `key IN (SELECT … LIMIT n)`, where a and b
 * are literals or parameters. A top-level OR makes it unbounded (the lint does not prove more).
 */
function whereBoundsKey(where: readonly SqlToken[], keys: ReadonlySet<string>): boolean {
  const top = topLevel(where);
  if (top.some((i) => isWord(where[i], 'OR'))) return false;
  let lower = false;
  let upper = false;
  for (const i of top) {
    const token = where[i];
    if (!isNameToken(token) || token.kind === 'string' || !keys.has(nameOf(token)) || isPunct(where[i + 1], '.')) continue;
    const op = where[i + 1];
    if (isWord(op, 'BETWEEN') && isBoundValue(where, i + 2)) return true;
    if (isPunct(op, '=', '==') && isBoundValue(where, i + 2)) return true;
    if (isWord(op, 'IN') && isPunct(where[i + 2], '(')) {
      const inner = where.slice(i + 3, closingParen(where, i + 2));
      if (isWord(inner[0], 'SELECT', 'WITH') ? topLevelWord(inner, 'LIMIT') !== -1 : inner.length > 0) return true;
    }
    if (isPunct(op, '<', '<=') && isBoundValue(where, i + 2)) upper = true;
    if (isPunct(op, '>', '>=') && isBoundValue(where, i + 2)) lower = true;
    // The other way round: `:from <= t.rowid`.
    const start = isPunct(where[i - 1], '.') ? i - 2 : i;
    const reversed = where[start - 1];
    const valueStart = start - 2;
    if (valueStart >= 0 && isBoundValue(where, valueStart)) {
      if (isPunct(reversed, '=', '==')) return true;
      if (isPunct(reversed, '<', '<=')) lower = true;
      if (isPunct(reversed, '>', '>=')) upper = true;
    }
    if (lower && upper) return true;
  }
  return false;
}

function keysOf(table: string, tables: ReadonlyMap<string, TableShape>): Set<string> {
  const shape = tables.get(table);
  // Without the table's shape, `id` is the conventional key.
  return new Set([...ROWID_NAMES, ...(shape === undefined ? ['id'] : shape.primaryKey)]);
}

/** The WHERE clause at the top level of `tokens` (without the word), or null. */
function whereClause(tokens: readonly SqlToken[]): SqlToken[] | null {
  const start = topLevelWord(tokens, 'WHERE');
  if (start === -1) return null;
  const end = topLevel(tokens).find((i) => i > start && isWord(tokens[i], ...AFTER_WHERE)) ?? tokens.length;
  return tokens.slice(start + 1, end);
}

/** Whether a SELECT (the tokens from SELECT on) reads a bounded batch: a LIMIT, or a key bound on its first table. */
function selectIsBounded(select: readonly SqlToken[], ctes: ReadonlySet<string>, tables: ReadonlyMap<string, TableShape>): boolean {
  if (topLevelWord(select, 'LIMIT') !== -1) return true;
  const from = topLevelWord(select, 'FROM');
  const where = whereClause(select);
  if (from === -1 || where === null) return false;
  const first = qualifiedName(select, from + 1);
  if (first === null || ctes.has(first.name)) return false;
  return whereBoundsKey(where, keysOf(first.name, tables));
}

function skipIfNotExists(tokens: readonly SqlToken[], i: number): number {
  return isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'NOT') && isWord(tokens[i + 2], 'EXISTS') ? i + 3 : i;
}

function skipIfExists(tokens: readonly SqlToken[], i: number): number {
  return isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'EXISTS') ? i + 2 : i;
}

function defaultOf(tokens: readonly SqlToken[], i: number): ColumnFacts['defaultValue'] {
  const token = tokens[i];
  if (token === undefined) return 'none';
  if (isWord(token, 'NULL')) return 'null';
  if (isWord(token, 'CURRENT_TIME', 'CURRENT_DATE', 'CURRENT_TIMESTAMP')) return { expression: token.text };
  if (isPunct(token, '(')) {
    // SQLite keeps a parenthesized literal a constant, but refuses any other expression.
    const close = closingParen(tokens, i);
    const inner = tokens.slice(i + 1, close);
    const literal = inner.length === 1 || (inner.length === 2 && isPunct(inner[0], '-', '+') && inner[1]?.kind === 'number');
    const single = inner[inner.length - 1];
    if (literal && single !== undefined && (single.kind !== 'word' || isWord(single, 'NULL', 'TRUE', 'FALSE'))) return isWord(single, 'NULL') ? 'null' : 'constant';
    return { expression: tokens.slice(i, close + 1).map((t) => t.text).join(' ') };
  }
  return 'constant';
}

function columnFacts(definition: readonly SqlToken[]): ColumnFacts {
  let primaryKeyOrUnique = false;
  let notNull = false;
  let check = false;
  let references = false;
  let generated = false;
  let stored = false;
  let defaultValue: ColumnFacts['defaultValue'] = 'none';
  for (const i of topLevel(definition)) {
    const token = definition[i];
    if (isWord(token, 'PRIMARY', 'UNIQUE')) primaryKeyOrUnique = true;
    else if (isWord(token, 'NOT') && isWord(definition[i + 1], 'NULL')) notNull = true;
    else if (isWord(token, 'CHECK')) check = true;
    else if (isWord(token, 'REFERENCES')) references = true;
    else if (isWord(token, 'GENERATED', 'AS')) generated = true;
    else if (isWord(token, 'STORED')) stored = true;
    else if (isWord(token, 'DEFAULT')) {
      const first = definition[i + 1];
      defaultValue = isPunct(first, '-', '+') ? 'constant' : defaultOf(definition, i + 1);
    }
  }
  return { primaryKeyOrUnique, notNull, check, references, generated, stored, defaultValue };
}

function tableShape(tokens: readonly SqlToken[], open: number): TableShape {
  const close = closingParen(tokens, open);
  let primaryKey: string[] = [];
  for (const definition of splitList(tokens.slice(open + 1, close))) {
    const first = definition[0];
    if (isWord(first, 'CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN')) {
      const pk = definition.findIndex((t) => isWord(t, 'PRIMARY'));
      const list = definition.findIndex((t, i) => i > pk && isPunct(t, '('));
      if (pk !== -1 && list !== -1) {
        const columns = splitList(definition.slice(list + 1, closingParen(definition, list)));
        primaryKey = columns.map((column) => column[0]).filter(isNameToken).map(nameOf);
      }
    } else if (first !== undefined && topLevel(definition).some((i) => isWord(definition[i], 'PRIMARY'))) {
      primaryKey = [nameOf(first)];
    }
  }
  const strict = tokens.slice(close + 1).some((t) => isWord(t, 'STRICT'));
  return { strict, primaryKey };
}

function parseCreate(tokens: readonly SqlToken[], at: number, ctes: ReadonlySet<string>): Parsed {
  let i = at;
  const temp = isWord(tokens[i], 'TEMP', 'TEMPORARY');
  if (temp) i += 1;
  const unique = isWord(tokens[i], 'UNIQUE');
  if (unique) i += 1;
  const virtual = isWord(tokens[i], 'VIRTUAL');
  if (virtual) i += 1;
  const what = tokens[i];
  const named = qualifiedName(tokens, skipIfNotExists(tokens, i + 1));
  if (named === null) return { kind: 'unknown' };
  if (isWord(what, 'TABLE')) {
    const after = tokens[named.end];
    if (virtual) return { kind: 'create-table', table: named.name, temp, shape: { strict: false, primaryKey: [] }, copiesFrom: [] };
    if (isWord(after, 'AS')) {
      return { kind: 'create-table', table: named.name, temp, shape: { strict: false, primaryKey: [] }, copiesFrom: tablesRead(tokens.slice(named.end), ctes) };
    }
    if (isPunct(after, '(')) return { kind: 'create-table', table: named.name, temp, shape: tableShape(tokens, named.end), copiesFrom: [] };
    return { kind: 'unknown' };
  }
  if (isWord(what, 'INDEX') && !temp && !virtual && isWord(tokens[named.end], 'ON')) {
    const table = qualifiedName(tokens, named.end + 1);
    return table === null ? { kind: 'unknown' } : { kind: 'create-index', table: table.name, unique };
  }
  if (unique || virtual) return { kind: 'unknown' };
  if (isWord(what, 'TRIGGER')) return { kind: 'create-trigger', temp };
  if (isWord(what, 'VIEW')) return { kind: 'create-view', temp };
  return { kind: 'unknown' };
}

function parseAlter(tokens: readonly SqlToken[]): Parsed {
  if (!isWord(tokens[1], 'TABLE')) return { kind: 'unknown' };
  const named = qualifiedName(tokens, 2);
  if (named === null) return { kind: 'unknown' };
  const table = named.name;
  let i = named.end;
  const action = tokens[i];
  i += isWord(tokens[i + 1], 'COLUMN') ? 2 : 1;
  const subject = tokens[i];
  if (isWord(action, 'RENAME') && isWord(subject, 'TO') && isNameToken(tokens[i + 1])) {
    return { kind: 'rename-table', table, to: nameOf(tokens[i + 1] as SqlToken) };
  }
  if (!isNameToken(subject)) return { kind: 'unknown' };
  const column = nameOf(subject);
  if (isWord(action, 'ADD')) return { kind: 'add-column', table, column, facts: columnFacts(tokens.slice(i + 1)) };
  if (isWord(action, 'DROP')) return { kind: 'drop-column', table, column };
  if (isWord(action, 'RENAME') && isWord(tokens[i + 1], 'TO') && isNameToken(tokens[i + 2])) {
    return { kind: 'rename-column', table, column, to: nameOf(tokens[i + 2] as SqlToken) };
  }
  return { kind: 'unknown' };
}

function parseInsert(tokens: readonly SqlToken[], at: number, ctes: ReadonlySet<string>, tables: ReadonlyMap<string, TableShape>): Parsed {
  let i = at + 1;
  if (isWord(tokens[at], 'INSERT') && isWord(tokens[i], 'OR') && isWord(tokens[i + 1], ...CONFLICT_WORDS)) i += 2;
  if (!isWord(tokens[i], 'INTO')) return { kind: 'unknown' };
  const named = qualifiedName(tokens, i + 1);
  if (named === null) return { kind: 'unknown' };
  i = named.end;
  if (isWord(tokens[i], 'AS')) i += 2;
  if (isPunct(tokens[i], '(')) i = closingParen(tokens, i) + 1;
  const rest = tokens.slice(i);
  const copiesFrom = tablesRead(tokens.slice(0, at).concat(rest), ctes);
  if (isWord(rest[0], 'VALUES') || (isWord(rest[0], 'DEFAULT') && isWord(rest[1], 'VALUES'))) {
    return { kind: 'insert', table: named.name, source: 'values', copiesFrom, bounded: true };
  }
  if (isWord(rest[0], 'SELECT', 'WITH')) {
    return { kind: 'insert', table: named.name, source: 'select', copiesFrom, bounded: selectIsBounded(rest, ctes, tables) };
  }
  return { kind: 'unknown' };
}

function parseUpdateOrDelete(tokens: readonly SqlToken[], at: number, tables: ReadonlyMap<string, TableShape>): Parsed {
  const update = isWord(tokens[at], 'UPDATE');
  let i = at + 1;
  if (update && isWord(tokens[i], 'OR') && isWord(tokens[i + 1], ...CONFLICT_WORDS)) i += 2;
  if (!update) {
    if (!isWord(tokens[i], 'FROM')) return { kind: 'unknown' };
    i += 1;
  }
  const named = qualifiedName(tokens, i);
  if (named === null) return { kind: 'unknown' };
  const rest = tokens.slice(named.end);
  const where = whereClause(rest);
  const bounded = topLevelWord(rest, 'LIMIT') !== -1 || (where !== null && whereBoundsKey(where, keysOf(named.name, tables)));
  return { kind: update ? 'update' : 'delete', table: named.name, bounded };
}

/** The index of the statement after a leading WITH clause, collecting the CTE names. */
function skipWith(tokens: readonly SqlToken[], ctes: Set<string>): number {
  let i = isWord(tokens[1], 'RECURSIVE') ? 2 : 1;
  for (;;) {
    const name = tokens[i];
    if (!isNameToken(name)) return i;
    ctes.add(nameOf(name));
    i += 1;
    if (isPunct(tokens[i], '(')) i = closingParen(tokens, i) + 1;
    if (!isWord(tokens[i], 'AS')) return i;
    i += 1;
    if (isWord(tokens[i], 'NOT')) i += 1;
    if (isWord(tokens[i], 'MATERIALIZED')) i += 1;
    if (!isPunct(tokens[i], '(')) return i;
    i = closingParen(tokens, i) + 1;
    if (!isPunct(tokens[i], ',')) return i;
    i += 1;
  }
}

function parseStatement(tokens: readonly SqlToken[], tables: ReadonlyMap<string, TableShape>): Parsed {
  const ctes = new Set<string>();
  const at = isWord(tokens[0], 'WITH') ? skipWith(tokens, ctes) : 0;
  const head = tokens[at];
  if (head?.kind !== 'word') return { kind: 'unknown' };
  switch (head.value) {
    case 'CREATE':
      return at === 0 ? parseCreate(tokens, 1, ctes) : { kind: 'unknown' };
    case 'ALTER':
      return at === 0 ? parseAlter(tokens) : { kind: 'unknown' };
    case 'DROP': {
      const target = tokens[1];
      const named = qualifiedName(tokens, skipIfExists(tokens, 2));
      if (at !== 0 || named === null || !isWord(target, 'TABLE', 'INDEX', 'VIEW', 'TRIGGER')) return { kind: 'unknown' };
      return { kind: 'drop', target: target?.value as DropTarget, name: named.name };
    }
    case 'INSERT':
    case 'REPLACE':
      return parseInsert(tokens, at, ctes, tables);
    case 'UPDATE':
    case 'DELETE':
      return parseUpdateOrDelete(tokens, at, tables);
    case 'SELECT':
    case 'VALUES':
      return { kind: 'select' };
    case 'PRAGMA': {
      const pragma = qualifiedName(tokens, 1);
      return pragma === null ? { kind: 'unknown' } : { kind: 'pragma', pragma: pragma.name };
    }
    case 'VACUUM':
      return { kind: 'vacuum' };
    case 'ANALYZE':
      return { kind: 'analyze' };
    case 'REINDEX':
      return { kind: 'reindex' };
    case 'BEGIN':
    case 'COMMIT':
    case 'END':
    case 'ROLLBACK':
    case 'SAVEPOINT':
    case 'RELEASE':
      return at === 0 ? { kind: 'transaction', word: head.value } : { kind: 'unknown' };
    default:
      return { kind: 'unknown' };
  }
}

// ---------------------------------------------------------------------------------------------
// Judging statements

const SHADOW_TABLE =
  'use a shadow table: in expand create the new table with its indexes while it is empty, plus triggers (or dual writes in the write path) keeping it current; copy the rows in a batched backfill; then swap with a short DROP + RENAME in contract';

function excerpt(text: string): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  return flat.length <= 160 ? flat : `${flat.slice(0, 159)}…`;
}

interface Judge {
  readonly phase: MigrationPhase;
  readonly largeTableRows: number;
  readonly sizes: ReadonlyMap<string, number>;
  readonly tables: ReadonlyMap<string, TableShape>;
  /** Tables created by this migration so far, or known to be new. */
  readonly created: Set<string>;
  /** Tables this migration drops or renames away. */
  readonly removed: ReadonlySet<string>;
}

type Emit = (rule: LintRule, severity: LintSeverity, message: string) => void;

function sizeText(judge: Judge, table: string): string {
  const size = judge.sizes.get(table);
  return size === undefined ? 'its size is unknown to the lint' : `${size.toLocaleString('en-US')} rows, over the ${judge.largeTableRows.toLocaleString('en-US')}-row limit`;
}

/** Created by this migration (empty, unused), or known to hold few rows. */
function isSmall(judge: Judge, table: string): boolean {
  if (judge.created.has(table)) return true;
  const size = judge.sizes.get(table);
  return size === undefined ? BOUNDED_TABLES.has(table) : size <= judge.largeTableRows;
}

function judgeIndex(judge: Judge, parsed: { readonly table: string; readonly unique: boolean }, emit: Emit): void {
  const { table } = parsed;
  if (judge.created.has(table)) return;
  if (parsed.unique) {
    const small = isSmall(judge, table);
    emit(
      'unique-index-on-existing-table',
      small ? 'warning' : 'error',
      `CREATE UNIQUE INDEX on existing table ${table} aborts the migration on the first duplicate row` +
        (small ? '' : ` and builds the whole index in one write transaction (${sizeText(judge, table)})`) +
        `; first remove duplicates in a backfill and make the write path refuse new ones` +
        (small ? '' : `, then ${SHADOW_TABLE}, creating the unique index while the shadow table is empty`),
    );
    return;
  }
  if (isSmall(judge, table)) return;
  emit(
    'index-on-existing-table',
    'error',
    `CREATE INDEX on existing table ${table} (${sizeText(judge, table)}) holds the write lock for the whole build: SQLite has no concurrent index build (about 0.7 s per million rows); ${SHADOW_TABLE}`,
  );
}

function judgeAddColumn(judge: Judge, parsed: Extract<Parsed, { kind: 'add-column' }>, emit: Emit): void {
  const { table, column, facts } = parsed;
  const onRows = 'SQLite refuses it only when the table has rows, so it passes on an empty test database and fails in production';
  if (facts.primaryKeyOrUnique) {
    emit('add-column-unique', 'error', `SQLite refuses ADD COLUMN ${column} with PRIMARY KEY or UNIQUE; add a plain column, fill it in a backfill, then create a unique index (through a shadow table on a large table)`);
  }
  if (facts.stored) {
    emit('add-column-stored', 'error', `SQLite cannot add a STORED generated column; add it VIRTUAL, or as a plain column filled by a backfill and by the write path`);
  }
  const hasValue = facts.defaultValue !== 'none' && facts.defaultValue !== 'null';
  if (facts.notNull && !facts.generated && !hasValue) {
    emit('add-column-not-null-without-default', 'error', `NOT NULL column ${column} without a non-NULL DEFAULT: ${onRows}; add it nullable or with a constant DEFAULT, fill it in a backfill, and have the write path set it`);
  }
  if (typeof facts.defaultValue === 'object') {
    emit('add-column-non-constant-default', 'error', `DEFAULT ${facts.defaultValue.expression} is not a constant: ${onRows}; use a constant DEFAULT (or none) and compute the value in a backfill and in the write path`);
  }
  if (facts.references && hasValue) {
    emit('add-column-references-default', 'error', `REFERENCES column ${column} with a non-NULL DEFAULT: with foreign keys on, ${onRows}; add it with DEFAULT NULL and fill it in a backfill`);
  }
  if (isSmall(judge, table)) return;
  const shape = judge.tables.get(table);
  const causes = [
    ...(shape?.strict === true ? [`${table} is STRICT`] : []),
    ...(facts.check ? ['the column has a CHECK constraint'] : []),
    ...(facts.generated && facts.notNull ? ['the column is a NOT NULL generated column'] : []),
  ];
  const instead = `SQLite verifies every existing row (pragma_quick_check) inside the write transaction, about 0.3 s per million rows; put the new values in a new table keyed by the primary key of ${table}, or ${SHADOW_TABLE}`;
  if (causes.length > 0) {
    emit('add-column-scans-table', 'error', `ADD COLUMN ${column} on ${table} (${sizeText(judge, table)}): because ${causes.join(' and ')}, ${instead}`);
  } else if (shape === undefined) {
    emit('add-column-scans-table', 'warning', `ADD COLUMN ${column} on ${table} (${sizeText(judge, table)}), a table the lint has not seen created: if it is STRICT, ${instead}`);
  }
}

function copyMessage(judge: Judge, kind: string, table: string, sources: readonly string[]): string {
  return `${kind} into ${table} reads ${sources.join(', ')} and then drops or renames ${sources.filter((s) => judge.removed.has(s)).join(', ')} in the same migration: that is SQLite's table rebuild, holding the write lock for the whole copy; ${SHADOW_TABLE}`;
}

/** The rules of every phase for statements that are not DDL or DML; true when it judged the statement. */
function judgeAnyPhase(phase: MigrationPhase, parsed: Parsed, emit: Emit): boolean {
  if (parsed.kind === 'unknown') {
    emit('unclassified', 'warning', `the lint cannot classify this statement, so it cannot tell whether it is safe in ${phase}; use statements it knows or teach src/release/migration-lint.ts about it`);
  } else if (parsed.kind === 'transaction') {
    emit('transaction-control', 'error', `${parsed.word} controls the transaction, which the runner owns (each migration runs in one transaction with its record); remove it`);
  } else if (parsed.kind === 'vacuum') {
    emit('vacuum', 'error', "VACUUM rewrites the whole database under an exclusive lock and cannot run inside the runner's transaction; never run it from a migration");
  } else if (parsed.kind === 'analyze') {
    emit('analyze', 'error', 'ANALYZE reads every index under the write lock (seconds on a large database); leave statistics to PRAGMA optimize run by the server, not to a migration');
  } else if (parsed.kind === 'reindex') {
    emit('reindex', 'error', `REINDEX rebuilds indexes in one write transaction, as slowly as creating them; to rebuild an index on a large table, ${SHADOW_TABLE}`);
  } else if (parsed.kind === 'pragma' && parsed.pragma === 'writable_schema') {
    emit('writable-schema', 'error', 'PRAGMA writable_schema edits sqlite_schema by hand and can corrupt the database; express the change as ordinary DDL in the right phase');
  } else if (parsed.kind === 'pragma') {
    emit('pragma', 'warning', `PRAGMA ${parsed.pragma} only affects the runner's connection or does nothing inside its transaction; configure connections in the store, not in a migration`);
  } else if (parsed.kind === 'select') {
    emit('no-effect', 'warning', 'a SELECT in a migration changes nothing; remove it');
  } else {
    return false;
  }
  return true;
}

function judgeStatement(judge: Judge, parsed: Parsed, emit: Emit): void {
  const { phase } = judge;
  const existing = (table: string): boolean => !judge.created.has(table);
  if (judgeAnyPhase(phase, parsed, emit)) return;

  if ((parsed.kind === 'insert' || parsed.kind === 'create-table') && parsed.copiesFrom.some((s) => judge.removed.has(s))) {
    emit('table-rebuild', 'error', copyMessage(judge, parsed.kind === 'insert' ? 'INSERT … SELECT' : 'CREATE TABLE … AS SELECT', parsed.table, parsed.copiesFrom));
    return;
  }
  const temp = (parsed.kind === 'create-table' || parsed.kind === 'create-trigger' || parsed.kind === 'create-view') && parsed.temp;
  if (temp) emit('temp-object', 'warning', 'a TEMP object lives only in the runner\'s connection and is gone after the migration; create a regular one or remove it');

  const isDdl = parsed.kind !== 'insert' && parsed.kind !== 'update' && parsed.kind !== 'delete';
  if (phase === 'backfill') {
    if (isDdl) {
      emit('ddl-in-backfill', 'error', 'a backfill changes data only, in batches while the server serves; move schema changes to an expand migration (additive) or a contract migration (destructive)');
    } else if (!parsed.bounded) {
      const what = parsed.kind === 'insert' ? 'INSERT … SELECT' : parsed.kind.toUpperCase();
      emit(
        'unbounded-backfill',
        'error',
        `${what} on ${parsed.table} is not bounded, so it would touch every row in one transaction; write it as a batch the runner repeats: bound a key by parameters (WHERE rowid > :batch_start AND rowid <= :batch_end) or take a LIMIT of rows not yet done (WHERE rowid IN (SELECT rowid FROM ${parsed.table} WHERE <not done> LIMIT :batch_size)); each batch must be idempotent`,
      );
    }
    return;
  }

  switch (parsed.kind) {
    case 'create-table':
      if (phase === 'contract') emit('create-in-contract', 'warning', 'creating a table belongs in an expand migration, which runs online; contract only removes what no live release needs');
      else if (parsed.copiesFrom.some(existing)) {
        emit('dml-in-expand', 'error', `CREATE TABLE … AS SELECT copies rows of ${parsed.copiesFrom.filter(existing).join(', ')} in one transaction; create the table empty in expand and copy the rows in a batched backfill`);
      }
      return;
    case 'create-index':
      if (phase === 'contract') emit('create-in-contract', 'warning', 'creating an index belongs in an expand migration, which runs online; contract only removes what no live release needs');
      judgeIndex(judge, parsed, emit);
      return;
    case 'create-trigger':
    case 'create-view':
      if (phase === 'contract') emit('create-in-contract', 'warning', `creating a ${parsed.kind === 'create-view' ? 'view' : 'trigger'} belongs in an expand migration; contract only removes what no live release needs`);
      return;
    case 'add-column':
      if (phase === 'contract') emit('create-in-contract', 'warning', 'adding a column belongs in an expand migration, which runs online; contract only removes what no live release needs');
      judgeAddColumn(judge, parsed, emit);
      return;
    case 'rename-table':
    case 'rename-column':
      if (phase === 'expand' && existing(parsed.table)) {
        emit('rename-in-expand', 'error', `renaming ${parsed.kind === 'rename-table' ? `table ${parsed.table}` : `column ${parsed.table}.${parsed.column}`} breaks the previous release, which still uses the old name; add the new shape in expand (kept current by the write path or triggers), fill it in a backfill, and drop or rename the old one in contract`);
      }
      return;
    case 'drop':
      if (phase === 'expand' && (parsed.target !== 'TABLE' || existing(parsed.name))) {
        emit('drop-in-expand', 'error', `DROP ${parsed.target} ${parsed.name} in expand: the previous release may still use it; release code that no longer needs it, then drop it in a contract migration`);
      } else if (phase === 'contract' && parsed.target === 'TABLE' && !isSmall(judge, parsed.name)) {
        emit('drop-large-table', 'warning', `DROP TABLE ${parsed.name} frees every page of it under the write lock (about 0.15 s per million small rows; ${sizeText(judge, parsed.name)}); for a large table delete its rows in a batched backfill first, then drop the empty table`);
      }
      return;
    case 'drop-column':
      if (phase === 'expand' && existing(parsed.table)) {
        emit('drop-in-expand', 'error', `DROP COLUMN ${parsed.table}.${parsed.column} in expand: the previous release may still use it; release code that no longer needs it, then remove it in contract`);
      } else if (phase === 'contract' && !isSmall(judge, parsed.table)) {
        emit('drop-column-rewrites-table', 'error', `SQLite's DROP COLUMN rewrites every row of ${parsed.table} in one write transaction (about 3 s per million rows; ${sizeText(judge, parsed.table)}); leave the column in place unused (clear it in a batched backfill if its space matters), or ${SHADOW_TABLE}`);
      }
      return;
    case 'insert':
    case 'update':
    case 'delete': {
      const what = parsed.kind === 'insert' ? (parsed.source === 'select' ? 'INSERT … SELECT' : 'INSERT') : parsed.kind.toUpperCase();
      if (phase === 'contract') {
        emit('dml-in-contract', 'warning', `${what} on ${parsed.table} in contract runs unbatched in one transaction; data changes belong in a batched backfill migration`);
        return;
      }
      const copied = parsed.kind === 'insert' ? parsed.copiesFrom.filter(existing) : [];
      if (existing(parsed.table) && !(parsed.kind === 'insert' && parsed.source === 'values' && copied.length === 0)) {
        emit('dml-in-expand', 'error', `${what} on existing table ${parsed.table} changes data in one transaction under the write lock; move it to a backfill migration, written in batches bounded by a key range or a LIMIT`);
      } else if (copied.length > 0) {
        emit('dml-in-expand', 'error', `${what} into ${parsed.table} copies rows of existing ${copied.join(', ')} in one transaction; keep ${parsed.table} empty in expand and copy in a batched backfill`);
      } else if (existing(parsed.table)) {
        emit('seed-existing-table', 'warning', `INSERT into existing table ${parsed.table} in expand changes what the previous release reads; fine for a meta row, otherwise use a backfill migration`);
      }
      return;
    }
    case 'unknown':
    case 'transaction':
    case 'vacuum':
    case 'analyze':
    case 'reindex':
    case 'pragma':
    case 'select':
      return; // judged by judgeAnyPhase
  }
}

// ---------------------------------------------------------------------------------------------
// Migrations

interface ReadStatement {
  readonly statement: SqlStatement;
  readonly parsed: Parsed | null; // null: unterminated
}

function readMigration(migration: SqliteMigration, tables: ReadonlyMap<string, TableShape>): ReadStatement[] {
  return splitSqlStatements(migration.sql).map((statement) => ({
    statement,
    parsed: statement.unterminated === undefined ? parseStatement(statement.tokens, tables) : null,
  }));
}

function lowerKeys<V>(map: ReadonlyMap<string, V> | undefined): Map<string, V> {
  return new Map([...(map ?? new Map<string, V>())].map(([key, value]) => [key.toLowerCase(), value]));
}

/** The findings for one migration; `context.tables` tells the shapes of the tables before it. */
export function lintMigration(migration: SqliteMigration, context: LintContext = {}): LintFinding[] {
  const tables = lowerKeys(context.tables);
  const read = readMigration(migration, tables);
  const removed = new Set<string>();
  for (const { parsed } of read) {
    if (parsed?.kind === 'drop' && parsed.target === 'TABLE') removed.add(parsed.name);
    if (parsed?.kind === 'rename-table') removed.add(parsed.table);
  }
  const judge: Judge = {
    phase: migration.phase,
    largeTableRows: context.largeTableRows ?? DEFAULT_LARGE_TABLE_ROWS,
    sizes: lowerKeys(context.tableSizes),
    tables,
    created: new Set([...(context.newTables ?? [])].map((t) => t.toLowerCase())),
    removed,
  };
  const checksum = migrationChecksum(migration);
  const accepted = (context.accepted ?? ACCEPTED_FINDINGS).filter((a) => a.version === migration.version && a.name === migration.name && a.checksum === checksum);
  const findings: LintFinding[] = [];
  for (const { statement, parsed } of read) {
    const emit: Emit = (rule, severity, message) => {
      const waiver = accepted.find((a) => a.rule === rule);
      findings.push({
        version: migration.version,
        name: migration.name,
        statement: excerpt(statement.text),
        line: statement.line,
        rule,
        message: waiver === undefined ? message : `accepted in released history (${waiver.reason}): ${message}`,
        severity: waiver === undefined ? severity : 'warning',
      });
    };
    if (parsed === null) {
      emit('syntax', 'error', `the SQL ends inside a ${statement.unterminated ?? 'statement'}, which SQLite refuses; close it`);
      continue;
    }
    judgeStatement(judge, parsed, emit);
    if (parsed.kind === 'create-table' && !parsed.temp) judge.created.add(parsed.table);
    if (parsed.kind === 'rename-table' && judge.created.has(parsed.table)) judge.created.add(parsed.to);
  }
  return findings;
}

/** Updates `shapes` with the tables a migration's statements created, dropped or renamed. */
function applyToShapes(shapes: Map<string, TableShape>, read: readonly ReadStatement[]): void {
  for (const { parsed } of read) {
    if (parsed === null) continue;
    if (parsed.kind === 'create-table' && !parsed.temp) shapes.set(parsed.table, parsed.shape);
    if (parsed.kind === 'drop' && parsed.target === 'TABLE') shapes.delete(parsed.name);
    if (parsed.kind === 'rename-table') {
      const shape = shapes.get(parsed.table);
      shapes.delete(parsed.table);
      if (shape !== undefined) shapes.set(parsed.to, shape);
    }
    if (parsed.kind === 'rename-column') {
      const shape = shapes.get(parsed.table);
      if (shape !== undefined) shapes.set(parsed.table, { ...shape, primaryKey: shape.primaryKey.map((c) => (c === parsed.column ? parsed.to : c)) });
    }
  }
}

/** The findings for a list of migrations in order, each linted against the tables the earlier ones made. */
export function lintMigrations(migrations: readonly SqliteMigration[], context: LintContext = {}): LintFinding[] {
  const shapes = lowerKeys(context.tables);
  const findings: LintFinding[] = [];
  for (const migration of migrations) {
    findings.push(...lintMigration(migration, { ...context, tables: shapes }));
    applyToShapes(shapes, readMigration(migration, shapes));
  }
  return findings;
}
