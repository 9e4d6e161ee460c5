// The PostgreSQL Store, for several stateless nodes sharing one database. Each write is one
// READ COMMITTED transaction that row-locks the collections it changes (see tree-writer.ts), retried
// whole on a deadlock, serialization failure or a concurrent insert of the same row; each listing is
// one REPEATABLE READ READ ONLY transaction, so counters and members come from one snapshot. No
// process-local lock is involved anywhere, so two nodes are as safe as two requests. When PostgreSQL
// cannot be reached, every call throws StoreUnavailable (→ 503 + Retry-After) and the pool reconnects
// on its own once the server is back. This file opens the store (release guard, migrations under the
// migration lock), keeps release and node state, and routes writes to the tree writer; accounts live
// in accounts.ts, reads in reads.ts, transactions in transactions.ts. Must not import the DAV or HTTP layers.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { StoreUnavailable } from '../errors.ts';
import { unexpectedAmong, type NodeRecord, type ReleaseExpectation, type ReleaseGuardState, type ReleaseIdentity, type ReleaseRecords, type ReleaseStore } from '../release-store.ts';
import { knownMigration, planMigrations } from '../sqlite/migrator.ts';
import type { Destination, HomeLayout, NewCollection, ObjectQuery, PutObjectInput, ReadinessReport, SearchIndexDelta, Store, StoredAccount, StoredCredentials, WriteExpectation } from '../store.ts';
import type {
  AppPasswordRecord,
  Change,
  CollectionMembers,
  CollectionRecord,
  ObjectRecord,
  ObjectWithBody,
  PropertyOperation,
  PropertyTarget,
  SearchNarrowing,
  StoredProperty,
  SyncPage,
  UserRecord,
} from '../types.ts';
import { applyMigrations, readAppliedMigrations, withMigrationLock, type PostgresMigration } from './migrator.ts';
import { MINIMUM_SCHEMA_VERSION, POSTGRES_MIGRATIONS } from './migrations/index.ts';
import * as accounts from './accounts.ts';
import * as changeLog from './change-log.ts';
import * as reads from './reads.ts';
import { ReplicaReads, type ReplicaStats } from './replica.ts';
import { searchIndexSince } from './search-index-delta.ts';
import { PgStoreContext } from './store-context.ts';
import * as releaseState from './release-state.ts';
import { unrehearsedBecause } from './rehearsals.ts';
import type { PostgresDatabase } from './schema.ts';
import type { PgSession } from './session.ts';
import { createPool, queryBuilder } from './session.ts';
import { PgTransactions, STDERR_LOG, type StoreLog } from './transactions.ts';
import type { PgTreeWriter } from './tree-writer.ts';
import { runBackfillToEnd } from './backfill.ts';

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
  /** A streaming replica of `url` (read-only) for queries and multigets; see replica.ts. */
  readonly replicaUrl?: string;
}

export class PostgresStore implements Store, ReleaseStore {
  readonly backend = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly k: Kysely<PostgresDatabase>;
  private readonly now: () => number;
  /** What accounts.ts and reads.ts work with. */
  private readonly c: PgStoreContext;
  readonly migrations: readonly PostgresMigration[];
  /** For the connections of the background backfill and tools. */
  readonly url: string;
  private cachedEpoch: string | undefined;
  private guard: ReleaseGuardState = { unexpected: undefined, schemaVersion: 0, canServe: true, pending: [] };
  private readonly tx: PgTransactions;

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
    const replica =
      options.replicaUrl === undefined || options.replicaUrl === ''
        ? undefined
        : new ReplicaReads({
            url: options.replicaUrl,
            ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
            ...(options.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: options.statementTimeoutMs }),
            onConnectionError: options.onConnectionError ?? (() => undefined),
            log: options.log ?? STDERR_LOG,
          });
    this.c = new PgStoreContext(this.k, this.now, this.tx, replica);
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
      await store.close().catch(() => undefined);
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
    const unexpected = isCurrent ? undefined : (unexpectedAmong(await releaseState.listExpectations(client), release, this.now()) ?? (await unrehearsedBecause(client, release, pending.length, this.now())));
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

  async close(): Promise<void> {
    await Promise.all([this.tx.close(), this.c.replica?.close()]);
  }

  /** Where queries and multigets were answered, when a read replica is configured. */
  replicaStats(): ReplicaStats | undefined {
    return this.c.replica === undefined ? undefined : { ...this.c.replica.stats };
  }

  private write<T>(fn: (q: PgSession, tree: PgTreeWriter) => Promise<T>): Promise<T> {
    return this.c.write(fn);
  }

  private one<T>(fn: (q: PgSession) => Promise<T>): Promise<T> {
    return this.c.one(fn);
  }

  /** Looks at the schema again (after open, or after a backfill finished on this or another node). */
  refreshBusyTable(): Promise<void> {
    return this.c.refreshBusyTable();
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
    return this.one(() => releaseState.heartbeat(this.pool, { ...node, knownMigration: node.knownMigration ?? knownMigration(this.migrations, this.releaseGuard().pending) }));
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

  // ---- accounts (accounts.ts) ----------------------------------------------------------------

  createUser(input: { name: string; email: string | null; displayName: string | null; passwordHash: string | null }): Promise<UserRecord> {
    return accounts.createUser(this.c, input);
  }

  getUser(name: string): Promise<UserRecord | null> {
    return accounts.getUser(this.c, name);
  }

  listUsers(): Promise<UserRecord[]> {
    return accounts.listUsers(this.c);
  }

  setPasswordHash(name: string, passwordHash: string): Promise<boolean> {
    return accounts.setPasswordHash(this.c, name, passwordHash);
  }

  deleteUser(name: string): Promise<boolean> {
    return this.write((_q, tree) => tree.deleteUser(name));
  }

  addAppPassword(userName: string, label: string, hash: string): Promise<AppPasswordRecord> {
    return accounts.addAppPassword(this.c, userName, label, hash);
  }

  listAppPasswords(userName: string): Promise<AppPasswordRecord[]> {
    return accounts.listAppPasswords(this.c, userName);
  }

  revokeAppPassword(userName: string, label: string): Promise<boolean> {
    return accounts.revokeAppPassword(this.c, userName, label);
  }

  lookupCredentials(userName: string): Promise<StoredCredentials | null> {
    return accounts.lookupCredentials(this.c, userName);
  }

  lookupAccount(userName: string): Promise<StoredAccount | null> {
    return accounts.lookupAccount(this.c, userName);
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

  // ---- reading (reads.ts) --------------------------------------------------------------------

  getCollection(path: string): Promise<CollectionRecord | null> {
    return reads.getCollection(this.c, path);
  }

  getCollectionById(id: number): Promise<CollectionRecord | null> {
    return reads.getCollectionById(this.c, id);
  }

  getObject(collectionId: number, name: string): Promise<ObjectRecord | null> {
    return reads.getObject(this.c, collectionId, name);
  }

  getObjectWithBody(collectionId: number, name: string): Promise<ObjectWithBody | null> {
    return reads.getObjectWithBody(this.c, collectionId, name);
  }

  getMember(collectionPath: string, name: string, withBody: boolean): Promise<{ collection: CollectionRecord; object: ObjectRecord | ObjectWithBody | null } | null> {
    return reads.getMember(this.c, collectionPath, name, withBody);
  }

  listMembers(collectionId: number): Promise<CollectionMembers> {
    return reads.listMembers(this.c, collectionId);
  }

  getObjectsWithBodies(collectionId: number, names: readonly string[]): Promise<ObjectWithBody[]> {
    return reads.getObjectsWithBodies(this.c, collectionId, names);
  }

  queryObjects(collectionId: number, filter: ObjectQuery): Promise<ObjectWithBody[]> {
    return reads.queryObjects(this.c, collectionId, filter);
  }

  listSearchIndex(collectionId: number, narrowing?: SearchNarrowing): Promise<{ name: string; searchIndex: string | null }[]> {
    return reads.listSearchIndex(this.c, collectionId, narrowing);
  }

  searchIndexSince(collectionId: number, afterSeq: number): Promise<SearchIndexDelta> {
    return searchIndexSince(this.c, collectionId, afterSeq);
  }

  getProperties(target: PropertyTarget): Promise<StoredProperty[]> {
    return reads.getProperties(this.c, target);
  }

  changesSince(collectionId: number, afterSeq: number, limit: number): Promise<{ changes: Change[]; oldestSeq: number; currentSeq: number }> {
    return reads.changesSince(this.c, collectionId, afterSeq, limit);
  }

  syncChanges(collectionId: number, afterSeq: number, limit: number | null): Promise<SyncPage> {
    return reads.syncChanges(this.c, collectionId, afterSeq, limit);
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
