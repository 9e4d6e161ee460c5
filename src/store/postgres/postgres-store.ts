// The PostgreSQL Store, for several stateless nodes sharing one database. Each write is one
// READ COMMITTED transaction that row-locks the collections it changes (see tree-writer.ts), retried
// whole on a deadlock, serialization failure or a concurrent insert of the same row; each listing is
// one REPEATABLE READ READ ONLY transaction, so counters and members come from one snapshot. No
// process-local lock is involved anywhere, so two nodes are as safe as two requests. When PostgreSQL
// cannot be reached, every call throws StoreUnavailable (→ 503 + Retry-After) and the pool reconnects
// on its own once the server is back. Must not import the DAV or HTTP layers.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { StoreUnavailable, UserExists } from '../errors.ts';
import { unexpectedAmong, type NodeRecord, type ReleaseExpectation, type ReleaseGuardState, type ReleaseIdentity, type ReleaseRecords, type ReleaseStore } from '../release-store.ts';
import { planMigrations } from '../sqlite/migrator.ts';
import { COLLECTION_COLUMNS, OBJECT_COLUMNS, toCollection, toObject, toUser, USER_COLUMNS } from '../sqlite/rows.ts';
import type { Destination, HomeLayout, NewCollection, ObjectQuery, PutObjectInput, ReadinessReport, Store, StoredCredentials, WriteExpectation } from '../store.ts';
import type {
  AppPasswordRecord,
  Change,
  CollectionMembers,
  CollectionRecord,
  ObjectRecord,
  ObjectWithBody,
  PropertyOperation,
  PropertyTarget,
  StoredProperty,
  SyncPage,
  UserRecord,
} from '../types.ts';
import { applyMigrations, readAppliedMigrations, withMigrationLock, type PostgresMigration } from './migrator.ts';
import { MINIMUM_SCHEMA_VERSION, POSTGRES_MIGRATIONS } from './migrations/index.ts';
import * as changeLog from './change-log.ts';
import * as releaseState from './release-state.ts';
import type { PostgresDatabase } from './schema.ts';
import type { PgSession } from './session.ts';
import { createPool, queryBuilder } from './session.ts';
import { PgTransactions, STDERR_LOG, type StoreLog } from './transactions.ts';
import { PgTreeWriter } from './tree-writer.ts';
import { runBackfillToEnd } from './backfill.ts';
import { migration as objectBusyBackfill } from './migrations/0007-object-busy-backfill.ts';

const OBJECT_BUSY_BACKFILL = objectBusyBackfill.version;

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  readonly url: string;
  readonly migrations?: readonly PostgresMigration[];
  /** As on SQLite: with a release, schema changes run only for an expected one (or an empty database). */
  readonly release?: ReleaseIdentity;
  readonly minimumSchemaVersion?: number;
  readonly poolSize?: number;
  readonly statementTimeoutMs?: number;
  /** lock_timeout of the DDL connection. */
  readonly ddlLockTimeoutMs?: number;
  readonly now?: () => number;
  /** Called when an idle pooled connection breaks (logged by the caller; the pool replaces it). */
  readonly onConnectionError?: (error: Error) => void;
  /** How long the outcome of a COMMIT that lost its connection is looked into (default 2 s). */
  readonly commitCheckMs?: number;
  /** Where a write of unknown outcome is reported (default: a JSON line on stderr). */
  readonly log?: StoreLog;
}

export class PostgresStore implements Store, ReleaseStore {
  readonly backend = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly k: Kysely<PostgresDatabase>;
  private readonly now: () => number;
  readonly migrations: readonly PostgresMigration[];
  /** For the connections of the background backfill and tools. */
  readonly url: string;
  private cachedEpoch: string | undefined;
  private guard: ReleaseGuardState = { unexpected: undefined, schemaVersion: 0, canServe: true, pending: [] };
  private readonly tx: PgTransactions;
  /** object_busy exists (0005), so writes fill it; `busyComplete` once its backfill (0007) is applied. */
  private busyTable = false;
  private busyComplete = false;

  private constructor(options: PostgresStoreOptions) {
    this.k = queryBuilder();
    this.now = options.now ?? Date.now;
    this.migrations = options.migrations ?? POSTGRES_MIGRATIONS;
    this.url = options.url;
    this.pool = createPool(
      { url: options.url, ...(options.poolSize === undefined ? {} : { max: options.poolSize }), ...(options.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: options.statementTimeoutMs }) },
      options.onConnectionError ?? (() => undefined),
    );
    this.tx = new PgTransactions({ pool: this.pool, url: options.url, commitCheckMs: options.commitCheckMs ?? 2_000, log: options.log ?? STDERR_LOG });
  }

  /** Connects, runs the release guard and the migrations it allows (one node at a time), and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      store.guard = await withMigrationLock(
        { url: options.url, ...(options.ddlLockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.ddlLockTimeoutMs }) },
        (client) => store.guardedMigrate(client, options),
      );
      await store.refreshBusyTable();
    } catch (error) {
      await store.tx.close().catch(() => undefined);
      throw error;
    }
    return store;
  }

  /** DESIGN.md §6, as on SQLite: decided and applied while holding the migration lock. */
  private async guardedMigrate(client: pg.Client, options: PostgresStoreOptions): Promise<ReleaseGuardState> {
    const settings = { url: options.url, ...(options.ddlLockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.ddlLockTimeoutMs }) };
    const release = options.release;
    const applied = await readAppliedMigrations(client);
    const { pending } = planMigrations(applied, this.migrations);
    const finish = async (): Promise<void> => {
      await client.query("INSERT INTO store_meta (key, value) VALUES ('epoch', $1) ON CONFLICT (key) DO NOTHING", [randomUUID()]);
      if (release !== undefined) await releaseState.recordCurrentRelease(client, release);
    };
    if (release === undefined || applied.length === 0) {
      await applyMigrations(client, this.migrations, settings, { now: this.now, runBackfill: (c, m) => runBackfillToEnd(c, m) });
      await finish();
      return { unexpected: undefined, schemaVersion: await this.schemaVersionOn(client), canServe: true, pending: [] };
    }
    const current = await releaseState.currentRelease(client);
    const isCurrent = current !== undefined && current.version === release.version && current.migrationHash === release.migrationHash;
    const unexpected = isCurrent ? undefined : unexpectedAmong(await releaseState.listExpectations(client), release, this.now());
    if (unexpected === undefined) {
      // Only expand runs at start: backfill and contract are explicit operator steps.
      await applyMigrations(client, this.migrations, settings, { now: this.now, allowed: (m) => m.phase === 'expand' });
      await finish();
      const remaining = planMigrations(await readAppliedMigrations(client), this.migrations).pending;
      return { unexpected: undefined, schemaVersion: await this.schemaVersionOn(client), canServe: true, pending: remaining.map((m) => m.version) };
    }
    const schemaVersion = await this.schemaVersionOn(client);
    return { unexpected, schemaVersion, canServe: schemaVersion >= (options.minimumSchemaVersion ?? MINIMUM_SCHEMA_VERSION), pending: pending.map((m) => m.version) };
  }

  private async schemaVersionOn(client: Pick<pg.Client, 'query'>): Promise<number> {
    return Math.max(0, ...(await readAppliedMigrations(client)).map((m) => m.version));
  }

  close(): Promise<void> {
    return this.tx.close();
  }

  // ---- transactions -----------------------------------------------------------------------------

  private write<T>(fn: (q: PgSession, tree: PgTreeWriter) => Promise<T>): Promise<T> {
    return this.tx.write((q) => fn(q, new PgTreeWriter(q, this.k, this.now, this.busyTable)));
  }

  /** Several statements that must agree with each other: one snapshot. */
  private snapshot<T>(fn: (q: PgSession, tree: PgTreeWriter) => Promise<T>): Promise<T> {
    return this.tx.snapshot((q) => fn(q, new PgTreeWriter(q, this.k, this.now, this.busyTable)));
  }

  /** A single statement outside an explicit transaction (it is its own snapshot). */
  private one<T>(fn: (q: PgSession) => Promise<T>): Promise<T> {
    return this.tx.one(fn);
  }

  async readiness(): Promise<ReadinessReport> {
    let schemaVersion: number;
    try {
      schemaVersion = await this.one((q) => q.raw<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')).then((rows) => rows[0]?.v ?? 0);
    } catch (error) {
      return { ready: false, reason: `PostgreSQL is unreachable: ${(error as Error).message}`, schemaVersion: this.guard.schemaVersion };
    }
    const guard = this.guard;
    if (!guard.canServe) {
      return { ready: false, reason: `${guard.unexpected ?? 'unexpected release'}; schema ${schemaVersion} is too old for this code and no DDL may run`, schemaVersion };
    }
    if (guard.unexpected !== undefined) return { ready: true, reason: `serving on schema ${schemaVersion} without migrating: ${guard.unexpected}`, schemaVersion };
    return { ready: true, reason: 'ok', schemaVersion };
  }

  async epoch(): Promise<string> {
    if (this.cachedEpoch === undefined) {
      const row = await this.one((q) => q.first(this.k.selectFrom('store_meta').select('value').where('key', '=', 'epoch')));
      if (row === undefined) throw new StoreUnavailable('store epoch missing');
      this.cachedEpoch = row.value;
    }
    return this.cachedEpoch;
  }

  // ---- release state ----------------------------------------------------------------------------

  releaseGuard(): ReleaseGuardState {
    return this.guard;
  }

  releaseRecords(): Promise<ReleaseRecords> {
    return this.one(async () => {
      const applied = await readAppliedMigrations(this.pool);
      return {
        current: await releaseState.currentRelease(this.pool),
        expectations: await releaseState.listExpectations(this.pool),
        applied: applied.map((m) => m.version),
        pending: planMigrations(applied, this.migrations).pending.map((m) => m.version),
      };
    });
  }

  heartbeat(node: NodeRecord): Promise<boolean> {
    return this.one(() => releaseState.heartbeat(this.pool, node));
  }

  forgetNode(id: string): Promise<void> {
    return this.one(() => releaseState.forgetNode(this.pool, id));
  }

  liveNodes(since: number): Promise<NodeRecord[]> {
    return this.one(() => releaseState.liveNodes(this.pool, since));
  }

  expectRelease(expectation: ReleaseExpectation): Promise<void> {
    return this.one(() => releaseState.recordExpectation(this.pool, expectation));
  }

  // ---- accounts -------------------------------------------------------------------------------

  createUser(input: { name: string; email: string | null; displayName: string | null; passwordHash: string | null }): Promise<UserRecord> {
    return this.write(async (q) => {
      const taken = await q.first(this.k.selectFrom('users').select('id').where('name', '=', input.name));
      if (taken !== undefined) throw new UserExists(`user ${input.name} already exists`);
      const row = await q.first(
        this.k
          .insertInto('users')
          .values({ name: input.name, email: input.email, display_name: input.displayName, password_hash: input.passwordHash, created_at: this.now() })
          .returning(USER_COLUMNS),
      );
      if (row === undefined) throw new Error('insert returned no row');
      return toUser(row);
    });
  }

  getUser(name: string): Promise<UserRecord | null> {
    return this.one(async (q) => {
      const row = await q.first(this.k.selectFrom('users').select(USER_COLUMNS).where('name', '=', name));
      return row === undefined ? null : toUser(row);
    });
  }

  listUsers(): Promise<UserRecord[]> {
    return this.one(async (q) => (await q.all(this.k.selectFrom('users').select(USER_COLUMNS).orderBy('name'))).map(toUser));
  }

  setPasswordHash(name: string, passwordHash: string): Promise<boolean> {
    return this.write(
      async (q) =>
        (await q.run(
          this.k
            .updateTable('users')
            .set((eb) => ({ password_hash: passwordHash, credentials_version: eb('credentials_version', '+', 1) }))
            .where('name', '=', name),
        )) > 0,
    );
  }

  deleteUser(name: string): Promise<boolean> {
    return this.write(async (q) => (await q.run(this.k.deleteFrom('users').where('name', '=', name))) > 0);
  }

  addAppPassword(userName: string, label: string, hash: string): Promise<AppPasswordRecord> {
    return this.write(async (q) => {
      const user = await q.first(this.k.selectFrom('users').select('id').where('name', '=', userName).forUpdate());
      if (user === undefined) throw new UserExists(`no user ${userName}`);
      const duplicate = await q.first(this.k.selectFrom('app_passwords').select('id').where('user_id', '=', user.id).where('label', '=', label));
      if (duplicate !== undefined) throw new UserExists(`user ${userName} already has an app password labelled ${label}`);
      const row = await q.first(
        this.k
          .insertInto('app_passwords')
          .values({ user_id: user.id, label, hash, created_at: this.now(), last_used_at: null })
          .returning(['id', 'label', 'created_at', 'last_used_at']),
      );
      if (row === undefined) throw new Error('insert returned no row');
      await this.bumpCredentials(q, user.id);
      return { id: row.id, label: row.label, createdAt: row.created_at, lastUsedAt: row.last_used_at };
    });
  }

  listAppPasswords(userName: string): Promise<AppPasswordRecord[]> {
    return this.one(async (q) =>
      (
        await q.all(
          this.k
            .selectFrom('app_passwords')
            .innerJoin('users', 'users.id', 'app_passwords.user_id')
            .select(['app_passwords.id', 'app_passwords.label', 'app_passwords.created_at', 'app_passwords.last_used_at'])
            .where('users.name', '=', userName)
            .orderBy('app_passwords.label'),
        )
      ).map((row) => ({ id: row.id, label: row.label, createdAt: row.created_at, lastUsedAt: row.last_used_at })),
    );
  }

  revokeAppPassword(userName: string, label: string): Promise<boolean> {
    return this.write(async (q) => {
      const user = await q.first(this.k.selectFrom('users').select('id').where('name', '=', userName).forUpdate());
      if (user === undefined) return false;
      const removed = (await q.run(this.k.deleteFrom('app_passwords').where('user_id', '=', user.id).where('label', '=', label))) > 0;
      if (removed) await this.bumpCredentials(q, user.id);
      return removed;
    });
  }

  /** Cached verifications on every node compare this version, so a change anywhere takes effect at once. */
  private async bumpCredentials(q: PgSession, userId: number): Promise<void> {
    await q.run(this.k.updateTable('users').set((eb) => ({ credentials_version: eb('credentials_version', '+', 1) })).where('id', '=', userId));
  }

  lookupCredentials(userName: string): Promise<StoredCredentials | null> {
    // Every authenticated request asks this: one statement (one round trip), not a transaction of two.
    return this.one(async (q) => {
      const rows = await q.raw<{ id: number; name: string; password_hash: string | null; credentials_version: number; app: { id: number; hash: string }[] }>(
        `SELECT u.id, u.name, u.password_hash, u.credentials_version,
                COALESCE((SELECT json_agg(json_build_object('id', a.id, 'hash', a.hash) ORDER BY a.id)
                          FROM app_passwords a WHERE a.user_id = u.id), '[]'::json) AS app
         FROM users u WHERE u.name = $1`,
        [userName],
      );
      const user = rows[0];
      if (user === undefined) return null;
      return { userId: user.id, userName: user.name, passwordHash: user.password_hash, appPasswordHashes: user.app, credentialsVersion: user.credentials_version };
    });
  }

  ensureHomes(ownerId: number, homes: readonly HomeLayout[]): Promise<void> {
    // Two nodes creating the same home at once: the loser's insert hits the unique path, the whole
    // transaction is retried, and the retry finds the home there.
    return this.write(async (q, tree) => {
      for (const home of homes) {
        if ((await q.first(this.k.selectFrom('collections').select('id').where('path', '=', home.path))) !== undefined) continue;
        const created = await tree.insertCollection({ ownerId, parentId: null, path: home.path, kind: home.kind });
        for (const child of home.children) {
          await tree.createCollection({ ownerId, parentId: created.id, name: child.name, kind: child.kind, properties: child.properties });
        }
      }
    });
  }

  // ---- reading --------------------------------------------------------------------------------

  getCollection(path: string): Promise<CollectionRecord | null> {
    return this.one(async (q) => {
      const row = await q.first(this.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('path', '=', path));
      return row === undefined ? null : toCollection(row);
    });
  }

  getCollectionById(id: number): Promise<CollectionRecord | null> {
    return this.one(async (q) => {
      const row = await q.first(this.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('id', '=', id));
      return row === undefined ? null : toCollection(row);
    });
  }

  getObject(collectionId: number, name: string): Promise<ObjectRecord | null> {
    return this.one(async (q) => {
      const row = await q.first(this.k.selectFrom('objects').select(OBJECT_COLUMNS).where('collection_id', '=', collectionId).where('name', '=', name));
      return row === undefined ? null : toObject(row);
    });
  }

  getObjectWithBody(collectionId: number, name: string): Promise<ObjectWithBody | null> {
    return this.one(async (q) => {
      const row = await q.first(this.k.selectFrom('objects').select([...OBJECT_COLUMNS, 'body']).where('collection_id', '=', collectionId).where('name', '=', name));
      return row === undefined ? null : { ...toObject(row), body: row.body };
    });
  }

  listMembers(collectionId: number): Promise<CollectionMembers> {
    return this.snapshot(async (q, tree) => {
      const parent = await q.first(this.k.selectFrom('collections').select(['object_count', 'child_count', 'path']).where('id', '=', collectionId));
      if (parent === undefined) return { collections: [], objects: [] };
      const collections = (await q.all(this.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('parent_id', '=', collectionId).orderBy('path'))).map(toCollection);
      const objects = (await q.all(this.k.selectFrom('objects').select(OBJECT_COLUMNS).where('collection_id', '=', collectionId).orderBy('name'))).map(toObject);
      tree.guardCount(parent.path, parent.object_count, objects.length, parent.child_count, collections.length);
      return { collections, objects };
    });
  }

  getObjectsWithBodies(collectionId: number, names: readonly string[]): Promise<ObjectWithBody[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.one(async (q) =>
      (
        await q.all(
          this.k
            .selectFrom('objects')
            .select([...OBJECT_COLUMNS, 'body'])
            .where('collection_id', '=', collectionId)
            // One array parameter instead of one parameter per name: a 1,000-href multiget is one statement.
            .where((eb) => eb('name', '=', eb.fn<string>('any', [eb.val([...names])]))),
        )
      ).map((row) => ({ ...toObject(row), body: row.body })),
    );
  }

  /** Looks at the schema again (after open, or after a backfill finished on this or another node). */
  async refreshBusyTable(): Promise<void> {
    const rows = await this.one((q) => q.raw<{ present: boolean }>("SELECT to_regclass('object_busy') IS NOT NULL AS present"));
    this.busyTable = rows[0]?.present === true;
  }

  /** Whether every object has its object_busy row; true stays true (a backfill is never undone). */
  private async busyIndexComplete(q: PgSession): Promise<boolean> {
    if (this.busyComplete || !this.busyTable) return this.busyComplete;
    const rows = await q.raw('SELECT 1 FROM schema_migrations WHERE version = $1', [OBJECT_BUSY_BACKFILL]);
    this.busyComplete = rows.length > 0;
    return this.busyComplete;
  }

  queryObjects(collectionId: number, filter: ObjectQuery): Promise<ObjectWithBody[]> {
    return this.one(async (q) => {
      if (filter.mayBeBusy === true && (await this.busyIndexComplete(q))) {
        // Only objects that may add busy time (1) or are not known yet (-1), through object_busy's index.
        const { start, end } = filter.overlapping ?? { start: null, end: null };
        const where = ['b.collection_id = $1', 'b.busy IN (-1, 1)'];
        const parameters: unknown[] = [collectionId];
        if (start !== null) where.push(`(b.last_end IS NULL OR b.last_end >= $${parameters.push(start)})`);
        if (end !== null) where.push(`(b.first_start IS NULL OR b.first_start <= $${parameters.push(end)})`);
        if (filter.componentType !== undefined) where.push(`o.component = $${parameters.push(filter.componentType)}`);
        const rows = await q.raw<Parameters<typeof toObject>[0] & { body: Uint8Array }>(
          `SELECT ${OBJECT_COLUMNS.map((c) => `o.${c}`).join(', ')}, o.body FROM object_busy b JOIN objects o ON o.id = b.object_id
           WHERE ${where.join(' AND ')} ORDER BY o.name`,
          parameters,
        );
        return rows.map((row) => ({ ...toObject(row), body: row.body }));
      }
      let query = this.k.selectFrom('objects').select([...OBJECT_COLUMNS, 'body']).where('collection_id', '=', collectionId);
      if (filter.componentType !== undefined) query = query.where('component', '=', filter.componentType);
      const { start, end } = filter.overlapping ?? { start: null, end: null };
      if (start !== null) query = query.where((eb) => eb.or([eb('last_end', 'is', null), eb('last_end', '>=', start)]));
      if (end !== null) query = query.where((eb) => eb.or([eb('first_start', 'is', null), eb('first_start', '<=', end)]));
      return (await q.all(query.orderBy('name'))).map((row) => ({ ...toObject(row), body: row.body }));
    });
  }

  listSearchIndex(collectionId: number): Promise<{ name: string; searchIndex: string | null }[]> {
    return this.one(async (q) =>
      (await q.all(this.k.selectFrom('objects').select(['name', 'search_index']).where('collection_id', '=', collectionId).orderBy('name'))).map((row) => ({
        name: row.name,
        searchIndex: row.search_index,
      })),
    );
  }

  getProperties(target: PropertyTarget): Promise<StoredProperty[]> {
    return this.one((q) => new PgTreeWriter(q, this.k, this.now).readProperties(target));
  }

  changesSince(collectionId: number, afterSeq: number, limit: number): Promise<{ changes: Change[]; oldestSeq: number; currentSeq: number }> {
    return this.snapshot((q) => changeLog.changesSince(q, this.k, collectionId, afterSeq, limit));
  }

  syncChanges(collectionId: number, afterSeq: number, limit: number | null): Promise<SyncPage> {
    return this.snapshot((q, tree) => changeLog.syncPage(q, this.k, tree, collectionId, afterSeq, limit));
  }

  async pruneChanges(olderThan: number, batchSize = 2000): Promise<{ removed: number }> {
    let removed = 0;
    for (;;) {
      // One short transaction per batch, so writers never wait long behind the pruner.
      const batch = await this.write((q) => changeLog.pruneBatch(q, olderThan, batchSize));
      removed += batch;
      if (batch < batchSize) return { removed };
      await sleep(5);
    }
  }

  // ---- writing --------------------------------------------------------------------------------

  createCollection(input: NewCollection): Promise<CollectionRecord> {
    return this.write((_q, tree) => tree.createCollection(input));
  }

  deleteCollection(collectionId: number): Promise<void> {
    return this.write((_q, tree) => tree.deleteCollection(collectionId));
  }

  putObject(input: PutObjectInput): Promise<{ created: boolean; object: ObjectRecord }> {
    return this.write((_q, tree) => tree.putObject(input));
  }

  deleteObject(collectionId: number, name: string, expect?: WriteExpectation): Promise<void> {
    return this.write((_q, tree) => tree.deleteObject(collectionId, name, expect));
  }

  patchProperties(target: PropertyTarget, operations: readonly PropertyOperation[]): Promise<void> {
    return this.write((_q, tree) => tree.patchProperties(target, operations));
  }

  copyObject(collectionId: number, name: string, to: Destination): Promise<{ created: boolean }> {
    return this.write((_q, tree) => tree.copyObject(collectionId, name, to));
  }

  moveObject(collectionId: number, name: string, to: Destination): Promise<{ created: boolean }> {
    return this.write((_q, tree) => tree.moveObject(collectionId, name, to));
  }

  copyCollection(collectionId: number, to: Destination, depthInfinity: boolean): Promise<{ created: boolean }> {
    return this.write((_q, tree) => tree.copyCollection(collectionId, to, depthInfinity));
  }

  moveCollection(collectionId: number, to: Destination): Promise<{ created: boolean }> {
    return this.write((_q, tree) => tree.moveCollection(collectionId, to));
  }
}
