// The SQLite Store: one file in the data folder, WAL mode, synchronous=FULL so a commit is on disk
// before any 2xx. Every write is one BEGIN IMMEDIATE transaction run synchronously; when another
// process holds the lock, it is retried asynchronously within a small budget and then reported as
// StoreUnavailable (→ 503), because a long busy timeout would freeze the whole event loop.
// Must not import the DAV or HTTP layers.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { NotFound, StoreInconsistent, StoreUnavailable, UserExists } from '../errors.ts';
import type { ReleaseGuardState, ReleaseStore } from '../release-store.ts';
import type {
  Destination,
  HomeLayout,
  NewCollection,
  ObjectQuery,
  PutObjectInput,
  ReadinessReport,
  SearchIndexDelta,
  Store,
  StoredAccount,
  StoredCredentials,
  WriteExpectation,
} from '../store.ts';
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
import { compareCodePoints } from '../name-order.ts';
import { narrowingCondition } from '../search-narrowing.ts';
import { runBackfillToEnd } from './backfill.ts';
import { applyMigrations, knownMigration, planMigrations, readAppliedMigrations, type SqliteMigration } from './migrator.ts';
import { MINIMUM_SCHEMA_VERSION, SQLITE_MIGRATIONS } from './migrations/index.ts';
import {
  currentRelease,
  forgetNode,
  heartbeat,
  listExpectations,
  liveNodes,
  recordCurrentRelease,
  recordExpectation,
  unexpectedBecause,
  type NodeRecord,
  type ReleaseExpectation,
  type ReleaseIdentity,
} from './release-state.ts';
import { GroupCommit } from './group-commit.ts';
import { ObjectBusyIndex } from './object-busy.ts';
import { ObjectTimeTree } from './object-time-tree.ts';
import { copyOnline } from './online-copy.ts';
import { queryBuilder, SqliteRunner, type PreparedRead } from './query.ts';
import { rehearsedStepMs, unrehearsedBecause } from './rehearsals.ts';
import { searchIndexSince } from './search-index-delta.ts';
import { COLLECTION_COLUMNS, lastSegment, OBJECT_RECORD_COLUMNS, toCollection, toObject, toUser, USER_COLUMNS, type CollectionRow } from './rows.ts';
import type { SqliteDatabase } from './schema.ts';
import { announceStep, clearStep, currentStep, retryAfterSeconds } from './step-announcement.ts';
import { TreeWriter } from './tree-writer.ts';
import { guardCount } from '../write-rules.ts';

export interface SqliteStoreOptions {
  /** Folder holding almanac.sqlite3; ':memory:' is not supported because other processes must see it. */
  readonly dataDir: string;
  /** How long a write may wait for another process's lock before the request gets 503. */
  readonly lockBudgetMs?: number;
  readonly migrations?: readonly SqliteMigration[];
  /**
   * The running release. With it, schema changes run only for an expected release (or into an empty
   * database); without it (tests, tools on their own files) pending migrations always run.
   */
  readonly release?: ReleaseIdentity;
  /** The oldest schema version this code can serve on when it may not migrate. */
  readonly minimumSchemaVersion?: number;
  readonly now?: () => number;
  /**
   * Loading a new database in bulk (bench/generate-db.ts): commits are not synced to disk, so a
   * crash loses the load. Never for a database that serves.
   */
  readonly bulkLoad?: boolean;
}


export type { ReleaseGuardState };

export const DATABASE_FILE = 'almanac.sqlite3';

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

export class SqliteStore implements Store, ReleaseStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly q: SqliteRunner;
  private readonly k: Kysely<SqliteDatabase>;
  private readonly tree: TreeWriter;
  private readonly busy: ObjectBusyIndex;
  private readonly timeTree: ObjectTimeTree;
  private readonly lockBudgetMs: number;
  /** The migrations this store was opened with (the backfill runner and the rehearsal read them). */
  readonly migrations: readonly SqliteMigration[];
  /** The database file, for tools that open their own connection (backfill runner, status). */
  readonly file: string;
  /** Expand migrations this open ran for an expected release, with the write lock each held. */
  readonly expandedAtOpen: { version: number; name: string; lockMs: number }[] = [];
  private readonly now: () => number;
  private cachedEpoch: string | undefined;
  // One transaction wrapper for every call: better-sqlite3 builds a new one per db.transaction().
  private readonly inTransaction: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly reads: HotReads;
  private readonly writes: GroupCommit;
  private guard: ReleaseGuardState = { unexpected: undefined, schemaVersion: 0, canServe: true, pending: [] };

  private constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.db = db;
    this.file = db.name;
    this.q = new SqliteRunner(db);
    this.k = queryBuilder();
    this.now = options.now ?? Date.now;
    this.busy = new ObjectBusyIndex(db);
    this.timeTree = new ObjectTimeTree(db);
    this.tree = new TreeWriter(this.q, this.k, this.now, this.busy);
    this.inTransaction = db.transaction((fn: () => unknown) => fn());
    this.reads = hotReads(this.q, this.k);
    this.writes = new GroupCommit({
      transaction: (fn) => this.transact('immediate', fn),
      // Called inside the group's transaction, better-sqlite3's transaction function is a savepoint.
      savepoint: (fn) => this.inTransaction(fn),
      // Another process's lock (retried as a whole) and failures SQLite answers by rolling back the whole
      // transaction (disk full, I/O, corruption): every write of the group fails with them.
      abortsGroup: (error) => isBusy(error) || !this.db.inTransaction,
    });
    this.lockBudgetMs = options.lockBudgetMs ?? 2000;
    this.migrations = options.migrations ?? SQLITE_MIGRATIONS;
  }

  /** Opens (creating if needed) the database in dataDir and applies pending migrations. */
  static open(options: SqliteStoreOptions): SqliteStore {
    mkdirSync(options.dataDir, { recursive: true });
    const db = new Database(join(options.dataDir, DATABASE_FILE));
    db.pragma('journal_mode = WAL');
    db.pragma(options.bulkLoad === true ? 'synchronous = OFF' : 'synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // A few milliseconds only: better-sqlite3 blocks the event loop while it waits.
    db.pragma('busy_timeout = 5');
    const store = new SqliteStore(db, options);
    store.migrateWithRetry(options);
    return store;
  }

  private migrateWithRetry(options: SqliteStoreOptions): void {
    // Startup is the one place a blocking wait is acceptable: nothing is being served yet.
    this.db.pragma('busy_timeout = 5000');
    try {
      this.guard = this.guardedMigrate(options);
      const existing = this.db.prepare("SELECT value FROM store_meta WHERE key = 'epoch'").get() as { value: string } | undefined;
      if (existing === undefined) {
        this.db.prepare("INSERT OR IGNORE INTO store_meta (key, value) VALUES ('epoch', ?)").run(randomUUID());
      }
    } finally {
      this.db.pragma('busy_timeout = 5');
    }
    this.busy.refresh();
    this.timeTree.refresh();
  }

  /**
   * DESIGN.md §6: compare this release with what the database expects before any DDL. An empty
   * database gets the full schema; an expected release runs its pending expand migrations; anything
   * else runs no DDL at all and serves on the schema it finds if that schema is new enough.
   */
  private guardedMigrate(options: SqliteStoreOptions): ReleaseGuardState {
    const release = options.release;
    const applied = readAppliedMigrations(this.db);
    const { pending } = planMigrations(applied, this.migrations);
    if (release === undefined || applied.length === 0) {
      applyMigrations(this.db, this.migrations, this.now, runBackfillToEnd);
      if (release !== undefined) recordCurrentRelease(this.db, release);
      return { unexpected: undefined, schemaVersion: this.schemaVersion(), canServe: true, pending: [] };
    }
    // The release that last ran here is expected by definition; any other needs an operator's record.
    const current = currentRelease(this.db);
    const isCurrent = current !== undefined && current.version === release.version && current.migrationHash === release.migrationHash;
    const unexpected = isCurrent ? undefined : (unexpectedBecause(this.db, release, this.now()) ?? unrehearsedBecause(this.db, release, pending.length, this.now()));
    if (unexpected === undefined) {
      // Only expand runs at start: backfill and contract are explicit, rehearsed operator steps.
      applyMigrations(
        this.db,
        this.migrations.filter((m) => m.phase === 'expand' || !pending.includes(m)),
        this.now,
        runBackfillToEnd,
        (m, lockMs) => this.expandedAtOpen.push({ version: m.version, name: m.name, lockMs }),
        (m) => {
          announceStep(this.db.name, { version: m.version, name: m.name, pid: process.pid, startedAt: Date.now(), expectedMs: rehearsedStepMs(this.db, release.migrationHash, m.version) });
          return () => clearStep(this.db.name);
        },
      );
      recordCurrentRelease(this.db, release);
      const remaining = planMigrations(readAppliedMigrations(this.db), this.migrations).pending;
      return { unexpected: undefined, schemaVersion: this.schemaVersion(), canServe: true, pending: remaining.map((m) => m.version) };
    }
    const schemaVersion = this.schemaVersion();
    return {
      unexpected,
      schemaVersion,
      canServe: schemaVersion >= (options.minimumSchemaVersion ?? MINIMUM_SCHEMA_VERSION),
      pending: pending.map((m) => m.version),
    };
  }

  private schemaVersion(): number {
    return Math.max(0, ...readAppliedMigrations(this.db).map((m) => m.version));
  }

  releaseGuard(): ReleaseGuardState {
    return this.guard;
  }

  releaseRecords(): { current: ReleaseIdentity | undefined; expectations: ReleaseExpectation[]; applied: number[]; pending: number[] } {
    const applied = readAppliedMigrations(this.db);
    return {
      current: currentRelease(this.db),
      expectations: listExpectations(this.db),
      applied: applied.map((m) => m.version),
      pending: planMigrations(applied, this.migrations).pending.map((m) => m.version),
    };
  }

  /** Registers or refreshes this node in the registry (no-op on a schema without one). */
  async heartbeat(node: NodeRecord): Promise<boolean> {
    // What this node's code knows of its own migration set, as it found the schema: the contract gate's measure.
    const known = node.knownMigration ?? knownMigration(this.migrations, this.guard.pending);
    return this.write(() => heartbeat(this.db, { ...node, knownMigration: known }));
  }

  async forgetNode(id: string): Promise<void> {
    await this.write(() => forgetNode(this.db, id));
  }

  liveNodes(since: number): NodeRecord[] {
    return liveNodes(this.db, since);
  }

  expectRelease(expectation: ReleaseExpectation): void {
    this.db.transaction(() => recordExpectation(this.db, expectation)).immediate();
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  /** Runs fn in one transaction, retrying asynchronously while another process holds the lock. */
  private async transact<T>(mode: 'immediate' | 'deferred', fn: () => T): Promise<T> {
    const deadline = Date.now() + this.lockBudgetMs;
    let delay = 2;
    for (;;) {
      try {
        return (mode === 'immediate' ? this.inTransaction.immediate(fn) : this.inTransaction.deferred(fn)) as T;
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (Date.now() + delay > deadline) {
          const step = currentStep(this.db.name);
          const holder = step === undefined ? 'another writer' : `migration step ${step.version}-${step.name}`;
          throw new StoreUnavailable(`the database stayed locked by ${holder}`, retryAfterSeconds(step, Date.now()), { cause: error });
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 50);
      }
    }
  }

  private write<T>(fn: () => T): Promise<T> {
    return this.writes.write(fn);
  }

  private read<T>(fn: () => T): Promise<T> {
    return this.transact('deferred', fn);
  }

  readiness(): Promise<ReadinessReport> {
    return this.read(() => {
      const schemaVersion = this.schemaVersion();
      const guard = this.guard;
      if (!guard.canServe) {
        return { ready: false, reason: `${guard.unexpected ?? 'unexpected release'}; schema ${schemaVersion} is too old for this code and no DDL may run`, schemaVersion };
      }
      if (guard.unexpected !== undefined) return { ready: true, reason: `serving on schema ${schemaVersion} without migrating: ${guard.unexpected}`, schemaVersion };
      return { ready: true, reason: 'ok', schemaVersion };
    });
  }

  async epoch(): Promise<string> {
    if (this.cachedEpoch === undefined) {
      const row = await this.read(() => this.q.first(this.k.selectFrom('store_meta').select('value').where('key', '=', 'epoch')));
      if (row === undefined) throw new StoreUnavailable('store epoch missing');
      this.cachedEpoch = row.value;
    }
    return this.cachedEpoch;
  }

  // ---- accounts -------------------------------------------------------------------------------

  createUser(input: { name: string; email: string | null; displayName: string | null; passwordHash: string | null }): Promise<UserRecord> {
    return this.write(() => {
      const taken = this.q.first(this.k.selectFrom('users').select('id').where('name', '=', input.name));
      if (taken !== undefined) throw new UserExists(`user ${input.name} already exists`);
      const row = this.q.first(
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
    return this.read(() => {
      const row = this.q.first(this.k.selectFrom('users').select(USER_COLUMNS).where('name', '=', name));
      return row === undefined ? null : toUser(row);
    });
  }

  listUsers(): Promise<UserRecord[]> {
    return this.read(() => this.q.all(this.k.selectFrom('users').select(USER_COLUMNS).orderBy('name')).map(toUser));
  }

  setPasswordHash(name: string, passwordHash: string): Promise<boolean> {
    return this.write(() => {
      const result = this.q.run(
        this.k
          .updateTable('users')
          .set((eb) => ({ password_hash: passwordHash, credentials_version: eb('credentials_version', '+', 1) }))
          .where('name', '=', name),
      );
      return result.changes > 0;
    });
  }

  deleteUser(name: string): Promise<boolean> {
    return this.write(() => {
      this.busy.removeOwnedBy(name); // the user's collections and objects go by ON DELETE CASCADE
      return this.q.run(this.k.deleteFrom('users').where('name', '=', name)).changes > 0;
    });
  }

  addAppPassword(userName: string, label: string, hash: string): Promise<AppPasswordRecord> {
    return this.write(() => {
      const user = this.q.first(this.k.selectFrom('users').select('id').where('name', '=', userName));
      if (user === undefined) throw new UserExists(`no user ${userName}`);
      const duplicate = this.q.first(this.k.selectFrom('app_passwords').select('id').where('user_id', '=', user.id).where('label', '=', label));
      if (duplicate !== undefined) throw new UserExists(`user ${userName} already has an app password labelled ${label}`);
      const row = this.q.first(
        this.k
          .insertInto('app_passwords')
          .values({ user_id: user.id, label, hash, created_at: this.now(), last_used_at: null })
          .returning(['id', 'label', 'created_at', 'last_used_at']),
      );
      if (row === undefined) throw new Error('insert returned no row');
      this.bumpCredentials(user.id);
      return { id: row.id, label: row.label, createdAt: row.created_at, lastUsedAt: row.last_used_at };
    });
  }

  listAppPasswords(userName: string): Promise<AppPasswordRecord[]> {
    return this.read(() =>
      this.q
        .all(
          this.k
            .selectFrom('app_passwords')
            .innerJoin('users', 'users.id', 'app_passwords.user_id')
            .select(['app_passwords.id', 'app_passwords.label', 'app_passwords.created_at', 'app_passwords.last_used_at'])
            .where('users.name', '=', userName)
            .orderBy('app_passwords.label'),
        )
        .map((row) => ({ id: row.id, label: row.label, createdAt: row.created_at, lastUsedAt: row.last_used_at })),
    );
  }

  revokeAppPassword(userName: string, label: string): Promise<boolean> {
    return this.write(() => {
      const user = this.q.first(this.k.selectFrom('users').select('id').where('name', '=', userName));
      if (user === undefined) return false;
      const removed = this.q.run(this.k.deleteFrom('app_passwords').where('user_id', '=', user.id).where('label', '=', label)).changes > 0;
      if (removed) this.bumpCredentials(user.id);
      return removed;
    });
  }

  /** Cached verifications in every running process compare this version, so a change anywhere takes effect at once. */
  private bumpCredentials(userId: number): void {
    this.q.run(this.k.updateTable('users').set((eb) => ({ credentials_version: eb('credentials_version', '+', 1) })).where('id', '=', userId));
  }

  lookupCredentials(userName: string): Promise<StoredCredentials | null> {
    return this.read(() => {
      const user = this.reads.credentials.first(userName);
      if (user === undefined) return null;
      const appPasswords = this.reads.appPasswordHashes.all(user.id);
      return {
        userId: user.id,
        userName: user.name,
        passwordHash: user.password_hash,
        appPasswordHashes: appPasswords,
        credentialsVersion: user.credentials_version,
      };
    });
  }

  lookupAccount(userName: string): Promise<StoredAccount | null> {
    return this.read(() => {
      // One statement: the user's row once per app password (or once with none), ordered here rather
      // than by SQLite, which would set up a sorter on every request.
      const rows = this.reads.account.all(userName);
      const user = rows[0];
      if (user === undefined) return null;
      const appPasswordHashes: { id: number; hash: string }[] = [];
      for (const row of rows) if (row.app_id !== null && row.app_hash !== null) appPasswordHashes.push({ id: row.app_id, hash: row.app_hash });
      appPasswordHashes.sort((a, b) => a.id - b.id);
      return {
        userId: user.id,
        userName: user.name,
        passwordHash: user.password_hash,
        appPasswordHashes,
        credentialsVersion: user.credentials_version,
        user: toUser(user),
      };
    });
  }

  ensureHomes(ownerId: number, homes: readonly HomeLayout[]): Promise<void> {
    return this.write(() => {
      for (const home of homes) {
        if (this.collectionRow(home.path) !== undefined) continue;
        const created = this.tree.insertCollection({ ownerId, parentId: null, path: home.path, kind: home.kind });
        for (const child of home.children) {
          this.tree.createCollection({ ownerId, parentId: created.id, name: child.name, kind: child.kind, properties: child.properties });
        }
      }
    });
  }

  // ---- reading --------------------------------------------------------------------------------

  private collectionRow(path: string): CollectionRow | undefined {
    return this.reads.collectionByPath.first(path);
  }

  getCollection(path: string): Promise<CollectionRecord | null> {
    return this.read(() => {
      const row = this.collectionRow(path);
      return row === undefined ? null : toCollection(row);
    });
  }

  getCollectionById(id: number): Promise<CollectionRecord | null> {
    return this.read(() => {
      const row = this.reads.collectionById.first(id);
      return row === undefined ? null : toCollection(row);
    });
  }

  getObject(collectionId: number, name: string): Promise<ObjectRecord | null> {
    return this.read(() => {
      return this.reads.object.first(collectionId, name) ?? null;
    });
  }

  getObjectWithBody(collectionId: number, name: string): Promise<ObjectWithBody | null> {
    return this.read(() => {
      return this.reads.objectWithBody.first(collectionId, name) ?? null;
    });
  }

  getMember(collectionPath: string, name: string, withBody: boolean): Promise<{ collection: CollectionRecord; object: ObjectRecord | ObjectWithBody | null } | null> {
    return this.read(() => {
      const row = this.collectionRow(collectionPath);
      if (row === undefined) return null;
      const object = (withBody ? this.reads.objectWithBody : this.reads.object).first(row.id, name) ?? null;
      return { collection: toCollection(row), object };
    });
  }

  listMembers(collectionId: number): Promise<CollectionMembers> {
    return this.read(() => {
      const parent = this.reads.counters.first(collectionId);
      if (parent === undefined) return { collections: [], objects: [], syncSeq: 0 };
      const collections = this.reads.childCollections.all(collectionId).map(toCollection);
      const objects = this.reads.members.all(collectionId);
      guardCount(parent.path, parent.object_count, objects.length, parent.child_count, collections.length);
      return { collections, objects, syncSeq: parent.sync_seq };
    });
  }

  getObjectsWithBodies(collectionId: number, names: readonly string[]): Promise<ObjectWithBody[]> {
    if (names.length === 0) return Promise.resolve([]);
    // The names go in as one JSON array: one statement prepared once for any count (an IN list of
    // 100 parameters was compiled and prepared anew per count, and cost 22 % of a multiget).
    return this.read(() => this.reads.objectsNamed.all(collectionId, JSON.stringify(names)));
  }

  queryObjects(collectionId: number, filter: ObjectQuery): Promise<ObjectWithBody[]> {
    return this.read(() => {
      if (filter.mayBeBusy === true && this.busy.complete()) {
        const { start, end } = filter.overlapping ?? { start: null, end: null };
        return this.busy.busyCandidates(collectionId, start, end, filter.componentType).map((row) => ({ ...toObject(row), body: row.body }));
      }
      if (filter.overlapping !== undefined && this.timeTree.complete()) {
        const { start, end } = filter.overlapping;
        return this.timeTree.candidates(collectionId, start, end, filter.componentType, filter.mayMatch).sort((a, b) => compareCodePoints(a.name, b.name));
      }
      let query = this.k.selectFrom('objects').select([...OBJECT_RECORD_COLUMNS, 'body']).where('collection_id', '=', collectionId);
      if (filter.componentType !== undefined) query = query.where('component', '=', filter.componentType);
      const { start, end } = filter.overlapping ?? { start: null, end: null };
      // Inclusive on both sides: RFC 4791 §9.9 lets an instantaneous event at the range start, or a
      // task due exactly at its end, match. This is only a prefilter; the exact test follows.
      if (end !== null) query = query.where((eb) => eb.or([eb('first_start', 'is', null), eb('first_start', '<=', end)]));
      // No ORDER BY in SQL: with one, SQLite walks the whole collection in name order (the primary key)
      // instead of the time index, reading every row of a 100,000-object calendar per query (~60-150 ms
      // against ~4). For the same reason the unbounded ends are a second query: `last_end >= start` alone
      // is a range on objects_time_range, where an OR with `IS NULL` made it a scan of the collection.
      const rows = start === null
        ? this.q.all(query)
        : [...this.q.all(query.where('last_end', '>=', start)), ...this.q.all(query.where('last_end', 'is', null))];
      const mayMatch = filter.mayMatch;
      return (mayMatch === undefined ? rows : rows.filter((row) => mayMatch(row))).sort((a, b) => compareCodePoints(a.name, b.name));
    });
  }

  listSearchIndex(collectionId: number, narrowing?: SearchNarrowing): Promise<{ name: string; searchIndex: string | null }[]> {
    return this.read(() => {
      let query = this.k.selectFrom('objects').select(['name', 'search_index']).where('collection_id', '=', collectionId);
      if (narrowing !== undefined) query = query.where(narrowingCondition(narrowing, 'instr'));
      return this.q.all(query.orderBy('name')).map((row) => ({ name: row.name, searchIndex: row.search_index }));
    });
  }

  searchIndexSince(collectionId: number, afterSeq: number): Promise<SearchIndexDelta> {
    return this.read(() => searchIndexSince(this.q, this.k, collectionId, afterSeq));
  }

  getProperties(target: PropertyTarget): Promise<StoredProperty[]> {
    return this.read(() => this.tree.readProperties(target));
  }

  changesSince(collectionId: number, afterSeq: number, limit: number): Promise<{ changes: Change[]; oldestSeq: number; currentSeq: number }> {
    return this.read(() => {
      const collection = this.q.first(this.k.selectFrom('collections').select('sync_seq').where('id', '=', collectionId));
      const oldest = this.q.first(
        this.k.selectFrom('changes').select((eb) => eb.fn.min<number>('seq').as('oldest')).where('collection_id', '=', collectionId),
      );
      const changes = this.q
        .all(
          this.k
            .selectFrom('changes')
            .select(['seq', 'member', 'deleted'])
            .where('collection_id', '=', collectionId)
            .where('seq', '>', afterSeq)
            .orderBy('seq')
            .limit(limit),
        )
        .map((row) => ({ seq: row.seq, member: row.member, deleted: row.deleted === 1 }));
      return { changes, oldestSeq: oldest?.oldest ?? 0, currentSeq: collection?.sync_seq ?? 0 };
    });
  }

  syncChanges(collectionId: number, afterSeq: number, limit: number | null): Promise<SyncPage> {
    return this.read(() => {
      const collection = this.q.first(
        this.k.selectFrom('collections').select(['path', 'sync_seq', 'sync_horizon', 'object_count', 'child_count']).where('id', '=', collectionId),
      );
      if (collection === undefined) throw new NotFound(`collection ${collectionId} does not exist`);
      // SQLite takes the bare `deleted` column from the row holding MAX(seq): each member's latest change.
      const rows = this.q.rawAll<{ member: string; seq: number; deleted: number }>(
        `SELECT member, MAX(seq) AS seq, deleted FROM changes
         WHERE collection_id = ? AND seq > ? AND member <> ''
         GROUP BY member ORDER BY seq LIMIT ?`,
        [collectionId, afterSeq, limit === null ? -1 : limit + 1],
      );
      const truncated = limit !== null && rows.length > limit;
      const page = truncated ? rows.slice(0, limit) : rows;
      const changes = page.map((row) => ({ member: row.member, seq: row.seq, deleted: row.deleted === 1 }));
      const live = changes.filter((c) => !c.deleted).map((c) => c.member);
      const objects = new Map<string, ObjectRecord>();
      const collections = new Map<string, CollectionRecord>();
      // When the page names a good share of the collection (an initial sync names all of it), one
      // pass over the collection's objects costs less than looking each name up.
      const scan = live.length * 4 >= collection.object_count;
      if (scan && live.length > 0) {
        const wanted = new Set(live);
        for (const row of this.reads.members.all(collectionId)) {
          if (wanted.has(row.name)) objects.set(row.name, row);
        }
      }
      for (let i = 0; i < live.length; i += 500) {
        const chunk = live.slice(i, i + 500);
        if (!scan) {
          for (const row of this.q.all(this.k.selectFrom('objects').select(OBJECT_RECORD_COLUMNS).where('collection_id', '=', collectionId).where('name', 'in', chunk))) {
            objects.set(row.name, row);
          }
        }
        // Only homes have child collections; a calendar or address book needs no such lookup.
        if (collection.child_count > 0) {
          const paths = chunk.map((name) => `${collection.path}${name}/`);
          for (const row of this.q.all(this.k.selectFrom('collections').select(COLLECTION_COLUMNS).where('path', 'in', paths))) {
            collections.set(lastSegment(row.path), toCollection(row));
          }
        }
      }
      if (objects.size + collections.size !== live.length) {
        throw new StoreInconsistent(`change log of ${collection.path} names members that do not exist`);
      }
      if (afterSeq === 0 && !truncated) {
        guardCount(collection.path, collection.object_count, objects.size, collection.child_count, collections.size);
      }
      return { currentSeq: collection.sync_seq, horizon: collection.sync_horizon, changes, truncated, objects, collections };
    });
  }

  async pruneChanges(olderThan: number, batchSize = 2000): Promise<{ removed: number }> {
    let removed = 0;
    for (;;) {
      // One short write transaction per batch, so serving never waits long behind the pruner.
      const batch = await this.write(() => {
        const victims = this.q.rawAll<{ collection_id: number; seq: number; deleted: number; latest: number }>(
          `SELECT c.collection_id, c.seq, c.deleted,
                  NOT EXISTS (SELECT 1 FROM changes later WHERE later.collection_id = c.collection_id
                              AND later.member = c.member AND later.seq > c.seq) AS latest
           FROM changes c
           WHERE c.changed_at < ?
             AND (c.deleted = 1 OR c.member = '' OR EXISTS (SELECT 1 FROM changes later
                  WHERE later.collection_id = c.collection_id AND later.member = c.member AND later.seq > c.seq))
           LIMIT ?`,
          [olderThan, batchSize],
        );
        const horizons = new Map<number, number>();
        for (const victim of victims) {
          // Forgetting a member's last word (its deletion) is what makes older tokens unservable.
          if (victim.deleted === 1 && victim.latest === 1) horizons.set(victim.collection_id, Math.max(horizons.get(victim.collection_id) ?? 0, victim.seq));
          this.q.run(this.k.deleteFrom('changes').where('collection_id', '=', victim.collection_id).where('seq', '=', victim.seq));
        }
        for (const [collectionId, seq] of horizons) {
          this.q.run(this.k.updateTable('collections').set((eb) => ({ sync_horizon: eb.fn('max', ['sync_horizon', eb.val(seq)]) })).where('id', '=', collectionId));
        }
        return victims.length;
      });
      removed += batch;
      if (batch < batchSize) return { removed };
      await sleep(5);
    }
  }

  /** An online, consistent copy of the database while the server keeps serving (./online-copy.ts). */
  backup(file: string): Promise<void> {
    copyOnline(this.db, file);
    return Promise.resolve();
  }

  // ---- writing --------------------------------------------------------------------------------

  createCollection(input: NewCollection): Promise<CollectionRecord> {
    return this.write(() => this.tree.createCollection(input));
  }

  deleteCollection(collectionId: number): Promise<void> {
    return this.write(() => this.tree.deleteCollection(collectionId));
  }

  putObject(input: PutObjectInput): Promise<{ created: boolean; object: ObjectRecord }> {
    return this.write(() => this.tree.putObject(input));
  }

  deleteObject(collectionId: number, name: string, expect?: WriteExpectation): Promise<void> {
    return this.write(() => this.tree.deleteObject(collectionId, name, expect));
  }

  patchProperties(target: PropertyTarget, operations: readonly PropertyOperation[]): Promise<void> {
    return this.write(() => this.tree.patchProperties(target, operations));
  }

  copyObject(collectionId: number, name: string, to: Destination): Promise<{ created: boolean }> {
    return this.write(() => this.tree.copyObject(collectionId, name, to));
  }

  moveObject(collectionId: number, name: string, to: Destination): Promise<{ created: boolean }> {
    return this.write(() => this.tree.moveObject(collectionId, name, to));
  }

  copyCollection(collectionId: number, to: Destination, depthInfinity: boolean): Promise<{ created: boolean }> {
    return this.write(() => this.tree.copyCollection(collectionId, to, depthInfinity));
  }

  moveCollection(collectionId: number, to: Destination): Promise<{ created: boolean }> {
    return this.write(() => this.tree.moveCollection(collectionId, to));
  }
}

/** The reads of every request, compiled once (see SqliteRunner#once); stand-in values mark the parameters. */
interface HotReads {
  readonly credentials: PreparedRead<{ id: number; name: string; password_hash: string | null; credentials_version: number }>;
  readonly appPasswordHashes: PreparedRead<{ id: number; hash: string }>;
  readonly account: PreparedRead<{ id: number; name: string; email: string | null; display_name: string | null; created_at: number; password_hash: string | null; credentials_version: number; app_id: number | null; app_hash: string | null }>;
  readonly collectionByPath: PreparedRead<CollectionRow>;
  readonly collectionById: PreparedRead<CollectionRow>;
  readonly counters: PreparedRead<{ object_count: number; child_count: number; path: string; sync_seq: number }>;
  readonly childCollections: PreparedRead<CollectionRow>;
  readonly object: PreparedRead<ObjectRecord>;
  readonly objectWithBody: PreparedRead<ObjectWithBody>;
  readonly objectsNamed: PreparedRead<ObjectWithBody>;
  readonly members: PreparedRead<ObjectRecord>;
}

function hotReads(q: SqliteRunner, k: Kysely<SqliteDatabase>): HotReads {
  return {
    credentials: q.once(() => k.selectFrom('users').select(['id', 'name', 'password_hash', 'credentials_version']).where('name', '=', '')),
    appPasswordHashes: q.once(() => k.selectFrom('app_passwords').select(['id', 'hash']).where('user_id', '=', 0).orderBy('id')),
    account: q.once(() =>
      k
        .selectFrom('users')
        .leftJoin('app_passwords', 'app_passwords.user_id', 'users.id')
        .select(['users.id', 'users.name', 'users.email', 'users.display_name', 'users.created_at', 'users.password_hash', 'users.credentials_version', 'app_passwords.id as app_id', 'app_passwords.hash as app_hash'])
        .where('users.name', '=', ''),
    ),
    collectionByPath: q.once(() => k.selectFrom('collections').select(COLLECTION_COLUMNS).where('path', '=', '')),
    collectionById: q.once(() => k.selectFrom('collections').select(COLLECTION_COLUMNS).where('id', '=', 0)),
    counters: q.once(() => k.selectFrom('collections').select(['object_count', 'child_count', 'path', 'sync_seq']).where('id', '=', 0)),
    childCollections: q.once(() => k.selectFrom('collections').select(COLLECTION_COLUMNS).where('parent_id', '=', 0).orderBy('path')),
    object: q.once(() => k.selectFrom('objects').select(OBJECT_RECORD_COLUMNS).where('collection_id', '=', 0).where('name', '=', '')),
    objectWithBody: q.once(() => k.selectFrom('objects').select([...OBJECT_RECORD_COLUMNS, 'body']).where('collection_id', '=', 0).where('name', '=', '')),
    objectsNamed: q.once(() =>
      k.selectFrom('objects').select([...OBJECT_RECORD_COLUMNS, 'body']).where('collection_id', '=', 0).where(sql<boolean>`name IN (SELECT value FROM json_each(${'[]'}))`),
    ),
    members: q.once(() => k.selectFrom('objects').select(OBJECT_RECORD_COLUMNS).where('collection_id', '=', 0).orderBy('name')),
  };
}
