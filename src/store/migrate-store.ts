// Moves a deployment from SQLite to PostgreSQL: every row of an Almanac SQLite database (no server
// may be using it) is copied into an empty PostgreSQL database with the same ids, change-log positions,
// sync horizons and store epoch, so clients keep their sync tokens and notice nothing. The copy is one
// PostgreSQL transaction (a failure leaves the target empty), read from one SQLite snapshot, and is
// verified afterwards: the same number of rows in every table, and every object's ETag matching both
// the source and the bytes that arrived. Must not import DAV or HTTP.
import Database from 'better-sqlite3';
import pg from 'pg';
import { StoreError } from './errors.ts';
import { contentEtag } from './etag.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { TYPES } from './postgres/session.ts';
import { serverUsing } from './sqlite/data-dir.ts';

export class MigrateStoreError extends StoreError {
  override readonly name = 'MigrateStoreError';
}

interface TableCopy {
  readonly table: string;
  readonly columns: readonly string[];
  /** Identity columns need OVERRIDING SYSTEM VALUE and their sequences moved past the copied ids. */
  readonly identity?: string;
  readonly order: string;
  /** Rows per INSERT (objects carry bodies, so fewer). */
  readonly batch: number;
  readonly convert?: (row: Record<string, unknown>) => Record<string, unknown>;
}

// Parents before children; collections' parent_id is set in a second pass (a moved folder can be
// older than its new parent).
const TABLES: readonly TableCopy[] = [
  { table: 'store_meta', columns: ['key', 'value'], order: 'key', batch: 500 },
  { table: 'users', columns: ['id', 'name', 'email', 'display_name', 'password_hash', 'credentials_version', 'created_at'], identity: 'id', order: 'id', batch: 500 },
  { table: 'app_passwords', columns: ['id', 'user_id', 'label', 'hash', 'created_at', 'last_used_at'], identity: 'id', order: 'id', batch: 500 },
  {
    table: 'collections',
    columns: ['id', 'owner_id', 'parent_id', 'path', 'kind', 'sync_seq', 'object_count', 'child_count', 'bytes_used', 'sync_horizon', 'created_at', 'updated_at'],
    identity: 'id',
    order: 'id',
    batch: 500,
    convert: (row) => ({ ...row, parent_id: null }),
  },
  {
    table: 'objects',
    columns: ['id', 'collection_id', 'name', 'content_type', 'body', 'etag', 'size', 'uid', 'component', 'first_start', 'last_end', 'search_index', 'created_at', 'modified_at'],
    identity: 'id',
    order: 'id',
    batch: 100,
  },
  { table: 'changes', columns: ['collection_id', 'seq', 'member', 'deleted', 'changed_at'], order: 'collection_id, seq', batch: 1000, convert: (row) => ({ ...row, deleted: row.deleted === 1 }) },
  { table: 'collection_properties', columns: ['collection_id', 'name', 'xml'], order: 'collection_id, name', batch: 500 },
  { table: 'object_properties', columns: ['object_id', 'name', 'xml'], order: 'object_id, name', batch: 500 },
  { table: 'release_expectations', columns: ['id', 'version', 'migration_hash', 'window_from', 'window_until', 'approved_by', 'reason', 'created_at'], identity: 'id', order: 'id', batch: 500 },
];

export interface MigrateStoreReport {
  readonly tables: readonly { readonly table: string; readonly rows: number }[];
  readonly objectsVerified: number;
  readonly epoch: string;
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

async function insertRows(client: pg.Client, copy: TableCopy, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const converted = copy.convert === undefined ? row : copy.convert(row);
    const slots = copy.columns.map((column) => {
      values.push(converted[column] ?? null);
      return `$${values.length}`;
    });
    return `(${slots.join(', ')})`;
  });
  const overriding = copy.identity === undefined ? '' : ' OVERRIDING SYSTEM VALUE';
  await client.query(`INSERT INTO ${copy.table} (${copy.columns.join(', ')})${overriding} VALUES ${tuples.join(', ')}`, values);
}

/**
 * Copies the SQLite database in `dataDir` into the empty PostgreSQL database at `url`.
 * `progress` hears about each table as it goes.
 */
export async function migrateSqliteToPostgres(dataDir: string, sqliteFile: string, url: string, progress: (line: string) => void = () => undefined): Promise<MigrateStoreReport> {
  const server = serverUsing(dataDir);
  if (server !== undefined) throw new MigrateStoreError(`stop the server (pid ${server}) using ${dataDir} first: writes after the copy would be lost`);
  const source = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  try {
    for (const table of ['store_meta', 'users', 'collections', 'objects', 'changes']) {
      if (!hasTable(source, table)) throw new MigrateStoreError(`${sqliteFile} is not an Almanac database (no ${table} table)`);
    }
    const objectColumns = (source.prepare('PRAGMA table_info(objects)').all() as { name: string }[]).map((c) => c.name);
    if (!objectColumns.includes('search_index')) throw new MigrateStoreError(`${sqliteFile} has an old schema; start the current release on it once, then migrate`);

    // Creates the schema (and checks the target is a database this release can use).
    await (await PostgresStore.open({ url })).close();
    const client = new pg.Client({ connectionString: url, types: TYPES, application_name: 'almanac-migrate-store' });
    await client.connect();
    try {
      const existing = await client.query<{ n: number }>('SELECT count(*) AS n FROM users');
      if ((existing.rows[0]?.n ?? 0) > 0) throw new MigrateStoreError('the PostgreSQL database already holds accounts; migrate into an empty database');
      const tables: { table: string; rows: number }[] = [];
      // One read snapshot of the source for the whole copy.
      source.exec('BEGIN');
      await client.query('BEGIN');
      try {
        // The target's own epoch and release records give way to the source's.
        await client.query('DELETE FROM store_meta');
        for (const copy of TABLES) {
          if (!hasTable(source, copy.table)) {
            tables.push({ table: copy.table, rows: 0 });
            continue;
          }
          const total = (source.prepare(`SELECT count(*) AS n FROM ${copy.table}`).get() as { n: number }).n;
          let done = 0;
          let batch: Record<string, unknown>[] = [];
          for (const row of source.prepare(`SELECT ${copy.columns.join(', ')} FROM ${copy.table} ORDER BY ${copy.order}`).iterate() as IterableIterator<Record<string, unknown>>) {
            batch.push(row);
            if (batch.length >= copy.batch) {
              await insertRows(client, copy, batch);
              done += batch.length;
              batch = [];
              if (done % (copy.batch * 20) === 0) progress(`${copy.table}: ${done}/${total}`);
            }
          }
          await insertRows(client, copy, batch);
          done += batch.length;
          progress(`${copy.table}: ${done}/${total} copied`);
          tables.push({ table: copy.table, rows: done });
          if (copy.identity !== undefined) {
            await client.query(`SELECT setval(pg_get_serial_sequence('${copy.table}', '${copy.identity}'), GREATEST((SELECT max(${copy.identity}) FROM ${copy.table}), 1))`);
          }
        }
        const parents = source.prepare('SELECT id, parent_id FROM collections WHERE parent_id IS NOT NULL').all() as { id: number; parent_id: number }[];
        for (let i = 0; i < parents.length; i += 5000) {
          const chunk = parents.slice(i, i + 5000);
          await client.query('UPDATE collections c SET parent_id = p.parent_id FROM unnest($1::bigint[], $2::bigint[]) AS p(id, parent_id) WHERE c.id = p.id', [
            chunk.map((p) => p.id),
            chunk.map((p) => p.parent_id),
          ]);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        source.exec('COMMIT');
      }
      const objectsVerified = await verify(source, client, tables, progress);
      const epoch = (source.prepare("SELECT value FROM store_meta WHERE key = 'epoch'").get() as { value: string } | undefined)?.value ?? '';
      return { tables, objectsVerified, epoch };
    } finally {
      await client.end();
    }
  } finally {
    source.close();
  }
}

/** Row counts per table, then every object's ETag against the source and against its copied bytes. */
async function verify(source: Database.Database, client: pg.Client, tables: readonly { table: string; rows: number }[], progress: (line: string) => void): Promise<number> {
  for (const { table, rows } of tables) {
    const target = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
    if (target.rows[0]?.n !== rows) throw new MigrateStoreError(`verification failed: ${table} has ${target.rows[0]?.n} rows in PostgreSQL but ${rows} in SQLite`);
  }
  const sourceEtag = source.prepare('SELECT etag FROM objects WHERE id = ?').pluck();
  let verified = 0;
  let after = 0;
  for (;;) {
    const page = await client.query<{ id: number; etag: string; body: Buffer }>('SELECT id, etag, body FROM objects WHERE id > $1 ORDER BY id LIMIT 200', [after]);
    for (const row of page.rows) {
      if (contentEtag(row.body) !== row.etag || sourceEtag.get(row.id) !== row.etag) throw new MigrateStoreError(`verification failed: object ${row.id} does not match its source`);
      verified += 1;
      after = row.id;
    }
    if (page.rows.length < 200) break;
  }
  progress(`verified ${tables.length} tables and the ETags of ${verified} objects`);
  return verified;
}
