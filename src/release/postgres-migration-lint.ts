// The PostgreSQL migration lint: refuses statements that would lock a busy table for long or rewrite
// it, in the spirit of squawk's rules (squawk itself cannot be installed from the registries this
// project uses), and says what to do instead. Run over every shipped PostgreSQL migration by the test
// suite. May import src/store (migration types); must not import src/dav, src/http or the CLI.
//
// No rule asks for `SET lock_timeout` inside a migration (squawk's require-timeout-settings): the
// runner opens its DDL connection with lock_timeout as a start-up option, which no statement in a
// migration can lift, and retries with backoff (src/store/postgres/migrator.ts).
import type { PostgresMigration } from '../store/postgres/migrator.ts';

export interface PostgresLintFinding {
  readonly version: number;
  readonly name: string;
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly statement: string;
  readonly message: string;
}

function statementsOf(sql: string): string[] {
  // A dollar-quoted body (a trigger function's PL/pgSQL) is one statement's text, not statements.
  return sql
    .replace(/--[^\n]*/gu, '')
    .replace(/\$\$[\s\S]*?\$\$/gu, '$$$$')
    .split(';')
    .map((s) => s.replace(/\s+/gu, ' ').trim())
    .filter((s) => s.length > 0);
}

/** Tables the migration creates itself: anything goes on them, nobody uses them yet. */
function createdTables(statements: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const s of statements) {
    const match = /^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?"?(\w+)"?/iu.exec(s);
    if (match?.[1] !== undefined) names.add(match[1].toLowerCase());
  }
  return names;
}

function tableOf(statement: string): string | undefined {
  const alter = /^ALTER TABLE (?:ONLY )?(?:IF EXISTS )?"?(\w+)"?/iu.exec(statement);
  if (alter?.[1] !== undefined) return alter[1].toLowerCase();
  const index = /^CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?"?\w*"? ?ON (?:ONLY )?"?(\w+)"?/iu.exec(statement);
  return index?.[1]?.toLowerCase();
}

type Rule = { rule: string; severity: 'error' | 'warning'; test: (s: string) => boolean; message: string; onNewTables?: boolean };

const RULES: readonly Rule[] = [
  {
    rule: 'require-concurrent-index-creation',
    severity: 'error',
    test: (s) => /^CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)/iu.test(s),
    message: 'CREATE INDEX blocks writes to the table for the whole build; use CREATE INDEX CONCURRENTLY IF NOT EXISTS in a migration with transactional: false',
  },
  {
    rule: 'constraint-missing-not-valid',
    severity: 'error',
    test: (s) => /^ALTER TABLE .* ADD (?:CONSTRAINT \S+ )?(?:FOREIGN KEY|CHECK)\b/iu.test(s) && !/\bNOT VALID\b/iu.test(s),
    message: 'adding a CHECK or FOREIGN KEY scans the table under a lock; add it NOT VALID in expand, then VALIDATE CONSTRAINT (which takes a weaker lock) in a later step',
  },
  {
    rule: 'disallowed-unique-constraint',
    severity: 'error',
    test: (s) => /^ALTER TABLE .* ADD (?:CONSTRAINT \S+ )?(?:UNIQUE|PRIMARY KEY)\b/iu.test(s) && !/\bUSING INDEX\b/iu.test(s),
    message: 'a UNIQUE or PRIMARY KEY constraint builds its index under a lock; build a unique index CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX',
  },
  {
    rule: 'adding-not-nullable-field',
    severity: 'error',
    test: (s) => /^ALTER TABLE .* ALTER (?:COLUMN )?\S+ SET NOT NULL/iu.test(s),
    message: 'SET NOT NULL scans the table under ACCESS EXCLUSIVE; add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (PostgreSQL 12+ uses the constraint and skips the scan)',
  },
  {
    rule: 'changing-column-type',
    severity: 'error',
    test: (s) => /^ALTER TABLE .* ALTER (?:COLUMN )?\S+ (?:SET DATA )?TYPE\b/iu.test(s),
    message: 'changing a column type rewrites the table under ACCESS EXCLUSIVE; add a new column, backfill it in batches, switch readers, then drop the old one in contract',
  },
  {
    rule: 'adding-field-with-volatile-default',
    severity: 'error',
    test: (s) => /^ALTER TABLE .* ADD (?:COLUMN )?.*\bDEFAULT\b.*\b(?:now|random|gen_random_uuid|uuid_generate_v4|clock_timestamp|nextval)\s*\(/iu.test(s),
    message: 'a volatile DEFAULT makes ADD COLUMN rewrite the table; add the column without it (or with a constant), then backfill',
  },
  {
    rule: 'adding-stored-generated-column',
    severity: 'error',
    test: (s) => /^ALTER TABLE .* ADD (?:COLUMN )?.*\bGENERATED ALWAYS AS\b.*\bSTORED\b/iu.test(s),
    message: 'a STORED generated column rewrites the table; add a plain column and backfill it',
  },
  {
    rule: 'table-rewrite',
    severity: 'error',
    test: (s) => /^(?:VACUUM FULL|CLUSTER)\b/iu.test(s) || /^ALTER TABLE .* SET (?:LOGGED|UNLOGGED)\b/iu.test(s),
    message: 'rewrites the whole table under ACCESS EXCLUSIVE',
  },
  {
    rule: 'transaction-control',
    severity: 'error',
    test: (s) => /^(?:BEGIN|COMMIT|ROLLBACK|START TRANSACTION|SAVEPOINT|END)\b/iu.test(s),
    message: 'the runner owns the transaction that also records the migration',
    onNewTables: true,
  },
];

const EXPAND_ONLY: readonly Rule[] = [
  {
    rule: 'drop-in-expand',
    severity: 'error',
    test: (s) => /^(?:DROP (?:TABLE|INDEX|VIEW|TRIGGER|FUNCTION)\b|ALTER TABLE .* DROP (?:COLUMN|CONSTRAINT)\b)/iu.test(s) && !/^DROP INDEX CONCURRENTLY IF EXISTS/iu.test(s),
    message: 'the release still serving uses what expand would drop; drop it in a contract migration',
  },
  {
    rule: 'rename-in-expand',
    severity: 'error',
    test: (s) => /^ALTER TABLE .* RENAME\b/iu.test(s),
    message: 'the release still serving uses the old name; add the new name, backfill, and drop the old one in contract',
  },
];

export function lintPostgresMigrations(migrations: readonly PostgresMigration[]): PostgresLintFinding[] {
  const findings: PostgresLintFinding[] = [];
  for (const migration of migrations) {
    const statements = statementsOf(migration.sql);
    const created = createdTables(statements);
    const report = (rule: Pick<Rule, 'rule' | 'severity' | 'message'>, statement: string): void => {
      findings.push({ version: migration.version, name: migration.name, rule: rule.rule, severity: rule.severity, statement, message: rule.message });
    };
    for (const statement of statements) {
      const table = tableOf(statement);
      const onNewTable = table !== undefined && created.has(table);
      for (const rule of [...RULES, ...(migration.phase === 'expand' ? EXPAND_ONLY : [])]) {
        if ((rule.onNewTables === true || !onNewTable) && rule.test(statement)) report(rule, statement);
      }
      const concurrently = /\bCONCURRENTLY\b/iu.test(statement);
      if (concurrently && migration.transactional !== false) {
        report({ rule: 'concurrently-in-transaction', severity: 'error', message: 'PostgreSQL refuses CONCURRENTLY inside a transaction; mark the migration transactional: false' }, statement);
      }
      if (concurrently && /^CREATE (?:UNIQUE )?INDEX CONCURRENTLY (?!IF NOT EXISTS)/iu.test(statement)) {
        report({ rule: 'retry-needs-if-not-exists', severity: 'error', message: 'a non-transactional migration is retried statement by statement; write CREATE INDEX CONCURRENTLY IF NOT EXISTS' }, statement);
      }
    }
    if (migration.transactional === false && statements.some((s) => !/\bCONCURRENTLY\b/iu.test(s))) {
      report({ rule: 'mixed-non-transactional', severity: 'warning', message: 'only CONCURRENTLY statements need transactional: false; put the rest in a transactional migration so a failure rolls them back' }, statements.find((s) => !/\bCONCURRENTLY\b/iu.test(s)) ?? '');
    }
  }
  return findings;
}
