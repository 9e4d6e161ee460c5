// The PostgreSQL migration lint over every shipped migration (none may have an error), and over
// unsafe statements next to their safe versions.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { PostgresMigration } from '../store/postgres/migrator.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import { lintPostgresMigrations } from './postgres-migration-lint.ts';

const rules = (sql: string, extra: Partial<PostgresMigration> = {}): string[] =>
  lintPostgresMigrations([{ version: 50, name: 'x', phase: 'expand', sql, ...extra }]).map((f) => f.rule);

void it('finds no error in the shipped PostgreSQL migrations', () => {
  const errors = lintPostgresMigrations(POSTGRES_MIGRATIONS).filter((f) => f.severity === 'error');
  assert.deepEqual(errors, []);
});

void it('refuses locking or rewriting statements on existing tables and accepts their online versions', () => {
  assert.deepEqual(rules('CREATE INDEX objects_x ON objects(uid);'), ['require-concurrent-index-creation']);
  assert.deepEqual(rules('CREATE INDEX CONCURRENTLY IF NOT EXISTS objects_x ON objects(uid);', { transactional: false }), []);
  assert.deepEqual(rules('CREATE INDEX CONCURRENTLY objects_x ON objects(uid);'), ['concurrently-in-transaction', 'retry-needs-if-not-exists']);
  assert.deepEqual(rules('ALTER TABLE objects ADD CONSTRAINT size_ok CHECK (size >= 0);'), ['constraint-missing-not-valid']);
  assert.deepEqual(rules('ALTER TABLE objects ADD CONSTRAINT size_ok CHECK (size >= 0) NOT VALID;'), []);
  assert.deepEqual(rules('ALTER TABLE objects ADD CONSTRAINT one UNIQUE (uid);'), ['disallowed-unique-constraint']);
  assert.deepEqual(rules('ALTER TABLE objects ALTER COLUMN uid SET NOT NULL;'), ['adding-not-nullable-field']);
  assert.deepEqual(rules('ALTER TABLE objects ALTER COLUMN size TYPE integer;'), ['changing-column-type']);
  assert.deepEqual(rules('ALTER TABLE objects ADD COLUMN seen bigint DEFAULT 0;'), []);
  assert.deepEqual(rules('ALTER TABLE objects ADD COLUMN seen timestamptz DEFAULT now();'), ['adding-field-with-volatile-default']);
  assert.deepEqual(rules('VACUUM FULL objects;'), ['table-rewrite']);
  assert.deepEqual(rules('BEGIN; ALTER TABLE objects ADD COLUMN n text; COMMIT;'), ['transaction-control', 'transaction-control']);
});

void it('keeps drops and renames out of expand, and allows anything on a table the migration creates', () => {
  assert.deepEqual(rules('ALTER TABLE objects DROP COLUMN uid;'), ['drop-in-expand']);
  assert.deepEqual(rules('ALTER TABLE objects DROP COLUMN uid;', { phase: 'contract' }), []);
  assert.deepEqual(rules('ALTER TABLE objects RENAME COLUMN uid TO ident;'), ['rename-in-expand']);
  // The shipped contract step's statements: refused while the previous release may rely on them, fine in contract.
  const dropTrigger = 'DROP TRIGGER IF EXISTS object_busy_sync ON objects; DROP FUNCTION IF EXISTS object_busy_sync();';
  assert.deepEqual(rules(dropTrigger), ['drop-in-expand', 'drop-in-expand']);
  assert.deepEqual(rules(dropTrigger, { phase: 'contract' }), []);
  assert.deepEqual(rules('CREATE TABLE fresh (id bigint, v text); CREATE INDEX fresh_v ON fresh(v); ALTER TABLE fresh ALTER COLUMN v SET NOT NULL;'), []);
});
