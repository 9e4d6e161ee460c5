// Tests for the migration lint: every migration this release ships lints without errors, each rule
// fires (and stays quiet) where it should per phase, the statement splitter agrees with SQLite, and
// `almanac migrate lint` reports and exits accordingly. Drives real SQLite (better-sqlite3) to prove
// the lint's claims about what SQLite refuses, and the CLI through main().
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { main } from '../cli/main.ts';
import { migrateLint } from '../cli/migrate-commands.ts';
import { CliError, ExitCode } from '../cli/exit-codes.ts';
import type { CliIo } from '../cli/io.ts';
import { migrationChecksum, type MigrationPhase, type SqliteMigration } from '../store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import type { PostgresMigration } from '../store/postgres/migrator.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import { ACCEPTED_FINDINGS, lintMigration, lintMigrations, type LintContext, type LintFinding, type TableShape } from './migration-lint.ts';
import { splitSqlStatements } from './sql-statements.ts';

const migration = (phase: MigrationPhase, sql: string, version = 900): SqliteMigration => ({ version, name: 'under-test', phase, sql });

// Tables that exist before the migration under test, as lintMigrations would know them.
const TABLES: ReadonlyMap<string, TableShape> = new Map([
  ['objects', { strict: true, primaryKey: ['id'] }],
  ['plain', { strict: false, primaryKey: ['id'] }],
  ['changes', { strict: true, primaryKey: ['collection_id', 'seq'] }],
]);

/** `severity:rule` of each finding, in order. */
function rules(phase: MigrationPhase, sql: string, context: LintContext = {}): string[] {
  return lintMigration(migration(phase, sql), { tables: TABLES, ...context }).map((f) => `${f.severity}:${f.rule}`);
}

const texts = (sql: string): string[] => splitSqlStatements(sql).map((s) => s.text);

void describe('the migrations this release ships', () => {
  void it('lint without errors (the test-suite run of `almanac migrate lint`)', () => {
    const findings = lintMigrations(SQLITE_MIGRATIONS);
    assert.deepEqual(
      findings.filter((f) => f.severity === 'error').map((f) => `${f.version}-${f.name} ${f.rule}: ${f.statement}`),
      [],
    );
  });

  void it('owe their cleanliness only to the accepted findings of migrations 2-5, each pinned and still needed', () => {
    const strict = lintMigrations(SQLITE_MIGRATIONS, { accepted: [] });
    assert.deepEqual(
      strict.map((f) => `${f.version}:${f.severity}:${f.rule}`),
      ['2:error:index-on-existing-table', '3:error:add-column-scans-table', '4:error:add-column-scans-table', '5:error:index-on-existing-table', '5:error:index-on-existing-table'],
    );
    // Closed list: a new entry here means a new unsafe migration; fix the migration instead.
    assert.deepEqual(ACCEPTED_FINDINGS.map((a) => a.version), [2, 3, 4, 5]);
    for (const accepted of ACCEPTED_FINDINGS) {
      const shipped = SQLITE_MIGRATIONS.find((m) => m.version === accepted.version);
      assert.ok(shipped !== undefined);
      assert.equal(accepted.name, shipped.name);
      assert.equal(accepted.checksum, migrationChecksum(shipped), `checksum of ${accepted.version}`);
      assert.ok(strict.some((f) => f.version === accepted.version && f.rule === accepted.rule), `entry for ${accepted.version} is stale`);
    }
    const shown = lintMigrations(SQLITE_MIGRATIONS);
    assert.equal(shown.length, strict.length, 'accepted findings stay visible as warnings');
    assert.ok(shown.every((f) => f.severity === 'warning' && f.message.startsWith('accepted in released history')));
  });

  void it('no longer accepts a finding once the migration is edited', () => {
    const shipped = SQLITE_MIGRATIONS.find((m) => m.version === 2);
    assert.ok(shipped !== undefined);
    const edited = { ...shipped, sql: `${shipped.sql}\n` };
    assert.deepEqual(
      lintMigration(edited, { tables: TABLES }).map((f) => `${f.severity}:${f.rule}`),
      ['error:index-on-existing-table'],
    );
  });

  void it('split into statements SQLite prepares one by one', () => {
    const db = new Database(':memory:');
    try {
      for (const shipped of SQLITE_MIGRATIONS) {
        for (const statement of splitSqlStatements(shipped.sql)) db.exec(statement.text); // exec: DDL must run before the next prepare
      }
      for (const shipped of SQLITE_MIGRATIONS) for (const statement of splitSqlStatements(shipped.sql)) assert.equal(statement.unterminated, undefined);
    } finally {
      db.close();
    }
  });
});

void describe('splitSqlStatements', () => {
  void it('keeps semicolons inside strings and quoted names', () => {
    assert.deepEqual(texts(`INSERT INTO t VALUES ('a;b', 'it''s; fine'); SELECT "we;ird", \`x;y\`, [p;q] FROM t;`), [
      "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
      'SELECT "we;ird", `x;y`, [p;q] FROM t',
    ]);
    const [insert] = splitSqlStatements("INSERT INTO t VALUES ('it''s', x'00ff')");
    assert.deepEqual(insert?.tokens.map((t) => `${t.kind}:${t.value}`).slice(-5), ['punct:(', "string:it's", 'punct:,', "blob:x'00ff'", 'punct:)']);
  });

  void it('ignores semicolons in comments, and leading comments', () => {
    assert.deepEqual(texts('-- first; not a statement\nCREATE TABLE a (x); /* b; c */ CREATE TABLE b (y /* ; */); -- trailing;'), [
      'CREATE TABLE a (x)',
      'CREATE TABLE b (y /* ; */)',
    ]);
    assert.deepEqual(texts('SELECT 1 /* unterminated comment runs to the end; as in SQLite'), ['SELECT 1']);
  });

  void it('keeps a trigger body, with CASE … END in it and in WHEN, in one statement', () => {
    const sql = `
CREATE TRIGGER objects_copy AFTER UPDATE OF body ON objects
  WHEN CASE WHEN new.size > 0 THEN 1 ELSE 0 END
BEGIN
  INSERT INTO objects_new (id, kind) VALUES (new.id, CASE new.component WHEN 'VEVENT' THEN 'e' END);
  UPDATE objects_new SET size = new.size WHERE id = new.id;
END;
CREATE TEMP TRIGGER t2 BEFORE DELETE ON objects BEGIN SELECT RAISE(ABORT, 'no; never'); END;
SELECT 1`;
    const statements = splitSqlStatements(sql);
    assert.equal(statements.length, 3);
    assert.match(statements[0]?.text ?? '', /^CREATE TRIGGER objects_copy[\s\S]*WHERE id = new\.id;\nEND$/u);
    assert.equal(statements[0]?.line, 2);
    assert.match(statements[1]?.text ?? '', /^CREATE TEMP TRIGGER t2 .* END$/u);
    assert.equal(statements[2]?.text, 'SELECT 1');
    assert.equal(statements[2]?.line, 9);
  });

  void it('agrees with SQLite on a tricky script, statement by statement', () => {
    const sql = `CREATE TABLE t (id INTEGER PRIMARY KEY, "a;b" TEXT DEFAULT 'x;y'); -- c;
CREATE TABLE log (msg TEXT);
CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO log VALUES (CASE WHEN new."a;b" = ';' THEN 'semi;' ELSE 'other' END); END;
INSERT INTO t ("a;b") VALUES (';'), ('plain');;
/* ; */ UPDATE t SET "a;b" = 'z;' WHERE id = 2`;
    const db = new Database(':memory:');
    try {
      const statements = splitSqlStatements(sql);
      assert.equal(statements.length, 5);
      for (const statement of statements) db.prepare(statement.text).run(); // prepare refuses more than one statement
      assert.deepEqual(db.prepare('SELECT msg FROM log ORDER BY rowid').pluck().all(), ['semi;', 'other']);
      assert.deepEqual(db.prepare('SELECT "a;b" FROM t ORDER BY id').pluck().all(), [';', 'z;']);
    } finally {
      db.close();
    }
  });

  void it('skips empty statements and marks what the text leaves open', () => {
    assert.deepEqual(texts(';; SELECT 1;;; SELECT 2'), ['SELECT 1', 'SELECT 2']);
    assert.deepEqual(splitSqlStatements("SELECT 1; INSERT INTO t VALUES ('open;").map((s) => s.unterminated), [undefined, 'string']);
    assert.deepEqual(splitSqlStatements('SELECT "open').map((s) => s.unterminated), ['quoted name']);
    assert.deepEqual(splitSqlStatements('CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1;').map((s) => s.unterminated), ['trigger body']);
  });
});

void describe('lint rules in every phase', () => {
  void it('refuses transaction control, VACUUM, writable_schema, ANALYZE and REINDEX', () => {
    for (const phase of ['expand', 'backfill', 'contract'] as const) {
      assert.deepEqual(rules(phase, 'BEGIN; COMMIT; END TRANSACTION; SAVEPOINT s; RELEASE s; ROLLBACK'), Array<string>(6).fill('error:transaction-control'));
      assert.deepEqual(rules(phase, 'VACUUM; VACUUM INTO \'/tmp/x.db\''), ['error:vacuum', 'error:vacuum']);
      assert.deepEqual(rules(phase, 'PRAGMA writable_schema = ON; PRAGMA main.writable_schema(1)'), ['error:writable-schema', 'error:writable-schema']);
      assert.deepEqual(rules(phase, 'ANALYZE; REINDEX objects'), ['error:analyze', 'error:reindex']);
    }
  });

  void it('warns on other pragmas, SELECTs, TEMP objects and statements it cannot classify', () => {
    assert.deepEqual(rules('expand', 'PRAGMA foreign_keys = OFF; SELECT 1; WITH x AS (SELECT 1) SELECT * FROM x'), ['warning:pragma', 'warning:no-effect', 'warning:no-effect']);
    assert.deepEqual(rules('expand', 'CREATE TEMP TABLE scratch (x); CREATE TEMPORARY VIEW v AS SELECT 1'), ['warning:temp-object', 'warning:temp-object']);
    const findings = lintMigration(migration('expand', "ATTACH DATABASE 'other.db' AS other; EXPLAIN SELECT 1; CREATE UNIQUE TRIGGER x"));
    assert.deepEqual(findings.map((f) => `${f.severity}:${f.rule}`), ['warning:unclassified', 'warning:unclassified', 'warning:unclassified']);
    assert.equal(findings[0]?.statement, "ATTACH DATABASE 'other.db' AS other");
  });

  void it('reports SQL that ends inside a string or trigger body', () => {
    assert.deepEqual(rules('expand', "CREATE TABLE a (x); INSERT INTO a VALUES ('oops)"), ['error:syntax']);
    assert.deepEqual(rules('expand', 'CREATE TRIGGER x AFTER INSERT ON objects BEGIN SELECT 1;'), ['error:syntax']);
  });

  void it('refuses the 12-step table rebuild in any phase', () => {
    const rebuild = `CREATE TABLE objects_new (id INTEGER PRIMARY KEY, body BLOB) STRICT;
INSERT INTO objects_new (id, body) SELECT id, body FROM objects;
DROP TABLE objects;
ALTER TABLE objects_new RENAME TO objects;`;
    assert.deepEqual(rules('expand', rebuild), ['error:table-rebuild', 'error:drop-in-expand']);
    assert.deepEqual(rules('contract', rebuild), ['warning:create-in-contract', 'error:table-rebuild', 'warning:drop-large-table']);
    assert.deepEqual(rules('backfill', rebuild), ['error:ddl-in-backfill', 'error:table-rebuild', 'error:ddl-in-backfill', 'error:ddl-in-backfill']);
    // Renaming the old table away instead of dropping it is the same rebuild.
    assert.deepEqual(rules('contract', 'CREATE TABLE copy AS SELECT * FROM plain; ALTER TABLE plain RENAME TO plain_old; ALTER TABLE copy RENAME TO plain'), ['error:table-rebuild']);
  });

  void it('gives each finding its migration, line, excerpt and a message saying what to do instead', () => {
    const [finding] = lintMigration(migration('expand', `\n\nCREATE INDEX objects_uid2\n   ON objects (uid);`), { tables: TABLES });
    assert.ok(finding !== undefined);
    const { message: _message, ...rest } = finding;
    assert.deepEqual(rest, {
      version: 900,
      name: 'under-test',
      statement: 'CREATE INDEX objects_uid2 ON objects (uid)',
      line: 3,
      rule: 'index-on-existing-table',
      severity: 'error',
    } satisfies Omit<LintFinding, 'message'>);
    assert.match(finding?.message ?? '', /no concurrent index build.*shadow table.*indexes while it is empty.*batched backfill.*RENAME in contract/u);
  });
});

void describe('lint rules in expand', () => {
  void it('allows creating tables, their indexes, triggers, views and seed rows', () => {
    const sql = `
CREATE TABLE IF NOT EXISTS labels (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE INDEX labels_name ON labels (name);
CREATE UNIQUE INDEX labels_unique ON labels (lower(name)) WHERE name IS NOT NULL;
CREATE VIRTUAL TABLE labels_fts USING fts5(name);
CREATE TRIGGER labels_sync AFTER INSERT ON objects BEGIN INSERT INTO labels (name) VALUES (new.uid); END;
CREATE VIEW label_names AS SELECT name FROM labels;
INSERT INTO labels (name) VALUES ('work'), ('home');
UPDATE labels SET name = upper(name);
DELETE FROM labels WHERE name = 'HOME';
ALTER TABLE labels ADD COLUMN color TEXT CHECK (color <> '');`;
    assert.deepEqual(rules('expand', sql), []);
  });

  void it('refuses an index on an existing table unless it is known to be small', () => {
    const sql = 'CREATE INDEX objects_uid2 ON objects (uid)';
    assert.deepEqual(rules('expand', sql), ['error:index-on-existing-table']);
    assert.deepEqual(rules('expand', sql, { tableSizes: new Map([['objects', 9_000]]) }), []);
    const large = lintMigration(migration('expand', sql), { tableSizes: new Map([['OBJECTS', 2_500_000]]) });
    assert.deepEqual(large.map((f) => f.rule), ['index-on-existing-table']);
    assert.match(large[0]?.message ?? '', /2,500,000 rows, over the 10,000-row limit/u);
    assert.deepEqual(rules('expand', sql, { tableSizes: new Map([['objects', 9_000]]), largeTableRows: 1_000 }), ['error:index-on-existing-table']);
    assert.deepEqual(rules('expand', sql, { newTables: new Set(['objects']) }), []);
  });

  void it('refuses a unique index on an existing table, and warns on a small one', () => {
    const sql = 'CREATE UNIQUE INDEX IF NOT EXISTS main.objects_etag ON objects (etag)';
    assert.deepEqual(rules('expand', sql), ['error:unique-index-on-existing-table']);
    assert.deepEqual(rules('expand', sql, { tableSizes: new Map([['objects', 10]]) }), ['warning:unique-index-on-existing-table']);
    assert.match(lintMigration(migration('expand', sql))[0]?.message ?? '', /duplicate.*backfill/u);
  });

  void it('checks ADD COLUMN for what SQLite refuses or scans', () => {
    const cases: readonly [string, readonly string[]][] = [
      ['ALTER TABLE plain ADD COLUMN note TEXT', []],
      ['ALTER TABLE plain ADD note TEXT NOT NULL DEFAULT \'\'', []],
      ['ALTER TABLE plain ADD COLUMN n INTEGER DEFAULT -1', []],
      ['ALTER TABLE plain ADD COLUMN n INTEGER DEFAULT (1)', []],
      ['ALTER TABLE plain ADD COLUMN n INTEGER REFERENCES objects(id) ON DELETE SET NULL', []],
      ['ALTER TABLE plain ADD COLUMN n INTEGER AS (id * 2)', []],
      ['ALTER TABLE plain ADD COLUMN n INTEGER NOT NULL', ['error:add-column-not-null-without-default']],
      ['ALTER TABLE plain ADD COLUMN n INTEGER NOT NULL DEFAULT NULL', ['error:add-column-not-null-without-default']],
      ['ALTER TABLE plain ADD COLUMN t TEXT DEFAULT CURRENT_TIMESTAMP', ['error:add-column-non-constant-default']],
      ['ALTER TABLE plain ADD COLUMN n INTEGER DEFAULT (1 + 1)', ['error:add-column-non-constant-default']],
      ["ALTER TABLE plain ADD COLUMN t TEXT NOT NULL DEFAULT (datetime('now'))", ['error:add-column-non-constant-default']],
      ['ALTER TABLE plain ADD COLUMN n INTEGER UNIQUE', ['error:add-column-unique']],
      ['ALTER TABLE plain ADD COLUMN n INTEGER PRIMARY KEY', ['error:add-column-unique']],
      ['ALTER TABLE plain ADD COLUMN n INTEGER AS (id * 2) STORED', ['error:add-column-stored']],
      ['ALTER TABLE plain ADD COLUMN n INTEGER REFERENCES objects(id) DEFAULT 1', ['error:add-column-references-default']],
      ['ALTER TABLE plain ADD COLUMN n INTEGER CHECK (n > 0)', ['error:add-column-scans-table']],
      ['ALTER TABLE plain ADD COLUMN n INTEGER AS (id * 2) NOT NULL', ['error:add-column-scans-table']],
      ['ALTER TABLE objects ADD COLUMN note TEXT', ['error:add-column-scans-table']],
      ['ALTER TABLE unseen ADD COLUMN note TEXT', ['warning:add-column-scans-table']],
    ];
    for (const [sql, expected] of cases) assert.deepEqual(rules('expand', sql), expected, sql);
    assert.deepEqual(rules('expand', 'ALTER TABLE objects ADD COLUMN note TEXT', { tableSizes: new Map([['objects', 50]]) }), []);
    // nodes is STRICT but bounded by the number of serving processes, unless the sizes say otherwise.
    const withNodes = { tables: new Map([...TABLES, ['nodes', { strict: true, primaryKey: ['id'] }]]) };
    assert.deepEqual(rules('expand', 'ALTER TABLE nodes ADD COLUMN known_migration INTEGER', withNodes), []);
    assert.deepEqual(rules('expand', 'ALTER TABLE nodes ADD COLUMN known_migration INTEGER', { ...withNodes, tableSizes: new Map([['nodes', 1e6]]) }), ['error:add-column-scans-table']);
  });

  void it('matches what SQLite really refuses on a table with rows (and accepts on an empty one)', () => {
    const refusals = new Set(['add-column-not-null-without-default', 'add-column-non-constant-default', 'add-column-references-default', 'add-column-unique', 'add-column-stored']);
    const columns = [
      'n INTEGER', 'n INTEGER NOT NULL', 'n INTEGER NOT NULL DEFAULT 0', 'n INTEGER DEFAULT (1)', 'n INTEGER DEFAULT (1 + 1)', 'n INTEGER DEFAULT -1',
      't TEXT DEFAULT CURRENT_TIMESTAMP', 'n INTEGER UNIQUE', 'n INTEGER PRIMARY KEY', 'n INTEGER REFERENCES plain(id)', 'n INTEGER REFERENCES plain(id) DEFAULT 1',
      'n INTEGER AS (id * 2)', 'n INTEGER AS (id * 2) STORED', "t TEXT DEFAULT 'a' COLLATE NOCASE",
    ];
    for (const column of columns) {
      const sql = `ALTER TABLE plain ADD COLUMN ${column}`;
      const lintRefuses = lintMigration(migration('expand', sql), { tables: TABLES }).some((f) => refusals.has(f.rule));
      const db = new Database(':memory:');
      try {
        db.exec('CREATE TABLE plain (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO plain (v) VALUES (1)');
        assert.equal(lintRefuses, (() => {
          try {
            db.exec(sql);
            return false;
          } catch {
            return true;
          }
        })(), sql);
      } finally {
        db.close();
      }
    }
  });

  void it('refuses DROP and RENAME of what the previous release uses', () => {
    assert.deepEqual(rules('expand', 'DROP TABLE plain; DROP INDEX IF EXISTS objects_uid; DROP VIEW v; DROP TRIGGER tr; ALTER TABLE objects DROP COLUMN uid'), Array<string>(5).fill('error:drop-in-expand'));
    assert.deepEqual(rules('expand', 'ALTER TABLE objects RENAME TO things; ALTER TABLE objects RENAME COLUMN uid TO uid2; ALTER TABLE objects RENAME uid TO uid3'), Array<string>(3).fill('error:rename-in-expand'));
    assert.deepEqual(rules('expand', 'CREATE TABLE tmp (x); ALTER TABLE tmp RENAME TO tmp2; DROP TABLE tmp2'), []);
  });

  void it('refuses data changes to existing tables and copies out of them', () => {
    assert.deepEqual(rules('expand', 'UPDATE objects SET size = 0 WHERE id = 1; DELETE FROM plain; INSERT INTO plain (id) SELECT id FROM objects'), Array<string>(3).fill('error:dml-in-expand'));
    assert.deepEqual(rules('expand', 'CREATE TABLE objects_new (id INTEGER PRIMARY KEY); INSERT INTO objects_new SELECT id FROM objects'), ['error:dml-in-expand']);
    assert.deepEqual(rules('expand', 'CREATE TABLE snapshot AS SELECT * FROM objects'), ['error:dml-in-expand']);
    assert.deepEqual(rules('expand', 'CREATE TABLE n (x); WITH c AS (SELECT uid FROM objects) INSERT INTO n SELECT * FROM c'), ['error:dml-in-expand']);
    assert.deepEqual(rules('expand', "INSERT OR IGNORE INTO plain (id) VALUES (1); REPLACE INTO store_meta (key, value) VALUES ('k', 'v')"), ['warning:seed-existing-table', 'warning:seed-existing-table']);
  });
});

void describe('lint rules in backfill', () => {
  void it('accepts batches bounded by a key range, a key list or a LIMIT', () => {
    const sql = `
UPDATE objects SET search_index = NULL WHERE id BETWEEN :batch_start AND :batch_end;
UPDATE objects SET size = 0 WHERE rowid > :after AND rowid <= :after + 1000 AND size IS NULL;
UPDATE objects AS o SET size = 0 WHERE :after < o.rowid AND o.rowid <= :until;
UPDATE objects SET size = length(body) WHERE rowid IN (SELECT rowid FROM objects WHERE size IS NULL LIMIT 500);
UPDATE objects SET size = 1 WHERE id IN (1, 2, 3);
UPDATE OR IGNORE objects SET size = 1 WHERE id = ?;
DELETE FROM changes WHERE changed_at < ? LIMIT 1000;
DELETE FROM changes WHERE collection_id = ? AND seq BETWEEN ? AND ?;
INSERT INTO plain (id) SELECT id FROM objects WHERE id > :from AND id <= :to;
INSERT INTO plain (id) SELECT id FROM objects ORDER BY id LIMIT 100;
INSERT INTO plain (id) VALUES (1) ON CONFLICT (id) DO NOTHING;`;
    assert.deepEqual(rules('backfill', sql), []);
  });

  void it('refuses UPDATE, DELETE and INSERT … SELECT that would touch every row at once', () => {
    const unbounded = [
      'UPDATE objects SET size = length(body)',
      'UPDATE objects SET size = 0 WHERE size IS NULL',
      'UPDATE objects SET size = 0 WHERE id > :after',
      'UPDATE objects SET size = 0 WHERE id BETWEEN 1 AND 100 OR size IS NULL',
      'UPDATE objects SET size = 0 WHERE rowid IN (SELECT rowid FROM objects WHERE size IS NULL)',
      'UPDATE objects SET size = s.size FROM sizes AS s WHERE objects.id = s.id',
      'DELETE FROM changes',
      'DELETE FROM changes WHERE seq < collection_id',
      'INSERT INTO plain (id) SELECT id FROM objects',
      'INSERT INTO plain (id) SELECT id FROM objects WHERE size > 0',
    ];
    for (const sql of unbounded) assert.deepEqual(rules('backfill', sql), ['error:unbounded-backfill'], sql);
    assert.match(lintMigration(migration('backfill', unbounded[0] ?? '')).at(0)?.message ?? '', /:batch_start.*LIMIT :batch_size.*idempotent/u);
  });

  void it('refuses schema changes', () => {
    assert.deepEqual(
      rules('backfill', 'CREATE TABLE x (y); CREATE INDEX i ON x (y); ALTER TABLE plain ADD COLUMN z TEXT; DROP INDEX i; ALTER TABLE plain RENAME TO p2; CREATE VIEW v AS SELECT 1'),
      Array<string>(6).fill('error:ddl-in-backfill'),
    );
  });

  void it('relies on UPDATE … LIMIT, which the bundled SQLite supports', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)');
      assert.equal(db.prepare('UPDATE t SET x = 0 WHERE x > 0 LIMIT 2').run().changes, 2);
      assert.equal(db.prepare('DELETE FROM t WHERE x = 0 LIMIT 1').run().changes, 1);
    } finally {
      db.close();
    }
  });
});

void describe('lint rules in contract', () => {
  void it('allows DROP and RENAME, the shadow-table swap included', () => {
    const small = { tableSizes: new Map([['plain', 10], ['objects', 10]]) };
    assert.deepEqual(rules('contract', 'DROP TABLE IF EXISTS plain; DROP INDEX objects_uid; DROP VIEW v; DROP TRIGGER objects_copy', small), []);
    assert.deepEqual(rules('contract', 'ALTER TABLE objects RENAME COLUMN uid TO uid_old; ALTER TABLE plain RENAME TO plain_old'), []);
    assert.deepEqual(rules('contract', 'DROP TRIGGER objects_copy; DROP TABLE objects; ALTER TABLE objects_new RENAME TO objects', small), []);
    assert.deepEqual(rules('contract', 'ALTER TABLE plain DROP COLUMN note', small), []);
  });

  void it('warns that dropping a large table frees its pages under the lock', () => {
    assert.deepEqual(rules('contract', 'DROP TABLE objects'), ['warning:drop-large-table']);
  });

  void it('refuses DROP COLUMN on a table that is not known to be small: SQLite rewrites every row', () => {
    assert.deepEqual(rules('contract', 'ALTER TABLE objects DROP COLUMN search_index'), ['error:drop-column-rewrites-table']);
    assert.deepEqual(rules('contract', 'ALTER TABLE objects DROP search_index', { tableSizes: new Map([['objects', 1e6]]) }), ['error:drop-column-rewrites-table']);
  });

  void it('warns on additive DDL and data changes, and still applies the cost rules', () => {
    assert.deepEqual(rules('contract', 'CREATE TABLE x (y); CREATE VIEW v AS SELECT 1; CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END'), Array<string>(3).fill('warning:create-in-contract'));
    assert.deepEqual(rules('contract', 'CREATE INDEX i ON objects (uid)'), ['warning:create-in-contract', 'error:index-on-existing-table']);
    assert.deepEqual(rules('contract', 'ALTER TABLE plain ADD COLUMN n INTEGER NOT NULL'), ['warning:create-in-contract', 'error:add-column-not-null-without-default']);
    assert.deepEqual(rules('contract', "UPDATE plain SET id = id; DELETE FROM plain WHERE id = 1; INSERT INTO plain VALUES (1)"), Array<string>(3).fill('warning:dml-in-contract'));
  });
});

void describe('lintMigrations', () => {
  void it('knows each table from the migrations before it, renames included', () => {
    const list: SqliteMigration[] = [
      migration('expand', 'CREATE TABLE loose (id INTEGER PRIMARY KEY, a TEXT); CREATE TABLE tight (k TEXT, s INTEGER, PRIMARY KEY (k, s)) STRICT, WITHOUT ROWID', 1),
      migration('expand', 'ALTER TABLE loose ADD COLUMN b TEXT; ALTER TABLE tight ADD COLUMN c TEXT', 2),
      migration('contract', 'ALTER TABLE tight RENAME TO snug', 3),
      migration('expand', 'ALTER TABLE snug ADD COLUMN d TEXT', 4),
      migration('backfill', 'UPDATE snug SET d = c WHERE s BETWEEN ? AND ?; UPDATE loose SET b = a WHERE id >= ? AND id < ?', 5),
    ];
    assert.deepEqual(lintMigrations(list, { accepted: [] }).map((f) => `${f.version}:${f.severity}:${f.rule}`), ['2:error:add-column-scans-table', '4:error:add-column-scans-table']);
  });
});

void describe('almanac migrate lint', () => {
  const capture = (): { io: CliIo; out: () => string; err: () => string } => {
    let out = '';
    let err = '';
    const io: CliIo = {
      stdin: () => Promise.resolve(''),
      readLine: () => Promise.resolve(null),
      stdout: (text) => {
        out += text;
      },
      stderr: (text) => {
        err += text;
      },
      isTTY: false,
      env: {},
      exit: (code) => {
        throw new Error(`unexpected exit(${code})`);
      },
    };
    return { io, out: () => out, err: () => err };
  };

  void it('exits 0 on the shipped migrations and prints their warnings, or JSON', async () => {
    const { io, out, err } = capture();
    assert.equal(await main(['node', 'almanac', 'migrate', 'lint'], io), ExitCode.ok);
    assert.match(out(), /^sqlite 0002-object-time-index:2 {2}warning {2}index-on-existing-table\n {2}CREATE INDEX objects_time_range/mu);
    assert.match(err(), new RegExp(`^${SQLITE_MIGRATIONS.length} SQLite migrations and ${POSTGRES_MIGRATIONS.length} PostgreSQL migrations linted: 0 errors, 5 warnings\\n$`, 'u'));

    const asJson = capture();
    assert.equal(await main(['node', 'almanac', 'migrate', 'lint', '--json'], asJson.io), ExitCode.ok);
    const findings = JSON.parse(asJson.out()) as { file: string; store: string; rule: string; severity: string }[];
    assert.deepEqual(findings.map((f) => `${f.file} ${f.rule}`), [
      'sqlite/0002-object-time-index index-on-existing-table',
      'sqlite/0003-sync-horizon add-column-scans-table',
      'sqlite/0004-search-index add-column-scans-table',
      'sqlite/0005-change-log-indexes index-on-existing-table',
      'sqlite/0005-change-log-indexes index-on-existing-table',
    ]);
    assert.ok(findings.every((f) => f.store === 'sqlite'));
    assert.equal(asJson.err(), '');
  });

  void it('reports errors and fails with exit 2', () => {
    const { io, out } = capture();
    const bad = [migration('expand', 'CREATE TABLE a (x)', 1), migration('expand', 'DROP TABLE a; UPDATE b SET x = 1', 2)];
    assert.throws(
      () => migrateLint({}, io, { sqlite: bad }),
      (error: unknown) => error instanceof CliError && error.exitCode === ExitCode.usage && /2 migration statements unsafe/u.test(error.message),
    );
    assert.match(out(), /0002-under-test:1 {2}error {2}drop-in-expand\n {2}DROP TABLE a\n/u);
    assert.match(out(), /0002-under-test:1 {2}error {2}dml-in-expand\n/u);
  });

  void it('lints the PostgreSQL set too and names the store of each finding', () => {
    const { io, out, err } = capture();
    const unsafe: PostgresMigration = { version: 50, name: 'index-objects', phase: 'expand', sql: 'CREATE INDEX objects_uid2 ON objects(uid);' };
    assert.throws(
      () => migrateLint({}, io, { postgres: [...POSTGRES_MIGRATIONS, unsafe] }),
      (error: unknown) => error instanceof CliError && error.exitCode === ExitCode.usage && /1 migration statement unsafe/u.test(error.message),
    );
    assert.match(out(), /^postgres 0050-index-objects {2}error {2}require-concurrent-index-creation\n {2}CREATE INDEX objects_uid2/mu);
    assert.match(out(), /^sqlite 0002-object-time-index:2 {2}warning/mu, 'the SQLite set is linted in the same run');
    assert.match(err(), /PostgreSQL migrations linted: 1 error, 5 warnings/u);

    const asJson = capture();
    assert.throws(() => migrateLint({ json: true }, asJson.io, { sqlite: [], postgres: [unsafe] }), CliError);
    assert.deepEqual(
      (JSON.parse(asJson.out()) as { file: string; store: string; rule: string }[]).map((f) => `${f.store} ${f.file} ${f.rule}`),
      ['postgres postgres/0050-index-objects require-concurrent-index-creation'],
    );
  });

  void it('keeps migrate a command group', async () => {
    const { io, out } = capture();
    assert.equal(await main(['node', 'almanac', 'migrate', '--help'], io), ExitCode.ok);
    assert.match(out(), /Commands:\n {2}lint /u);
  });
});
