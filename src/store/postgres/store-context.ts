// What every part of the PostgreSQL store works with: the query builder, the clock, the transaction
// runner, the optional read replica, and the schema facts that decide how objects are written and
// read (whether object_busy exists and is complete, whether the time box index of 0010 is usable). Writes come with a tree writer on their session.
// Must not import DAV or HTTP.
import type { Kysely } from 'kysely';
import { migration as objectBusyBackfill } from './migrations/0007-object-busy-backfill.ts';
import type { PostgresDatabase } from './schema.ts';
import type { PgSession } from './session.ts';
import type { PgTransactions } from './transactions.ts';
import type { ReplicaReads } from './replica.ts';
import { PgTreeWriter } from './tree-writer.ts';

const OBJECT_BUSY_BACKFILL = objectBusyBackfill.version;

export class PgStoreContext {
  readonly k: Kysely<PostgresDatabase>;
  readonly now: () => number;
  readonly tx: PgTransactions;
  /** The read replica, when one is configured (replica.ts). */
  readonly replica: ReplicaReads | undefined;
  /** object_busy exists (0005), so writes fill it; `busyComplete` once its backfill (0007) is applied. */
  private busyTable = false;
  private busyComplete = false;
  /** The GiST index of 0010 exists and is valid (a CONCURRENTLY build can leave an invalid one). */
  timeBoxIndex = false;

  constructor(k: Kysely<PostgresDatabase>, now: () => number, tx: PgTransactions, replica?: ReplicaReads) {
    this.k = k;
    this.now = now;
    this.tx = tx;
    this.replica = replica;
  }

  tree(q: PgSession): PgTreeWriter {
    return new PgTreeWriter(q, this.k, this.now, this.busyTable);
  }

  write<T>(fn: (q: PgSession, tree: PgTreeWriter) => Promise<T>): Promise<T> {
    return this.tx.write((q) => fn(q, this.tree(q)));
  }

  /** Several statements that must agree with each other: one snapshot. */
  snapshot<T>(fn: (q: PgSession) => Promise<T>): Promise<T> {
    return this.tx.snapshot(fn);
  }

  /** A single statement outside an explicit transaction (it is its own snapshot). */
  one<T>(fn: (q: PgSession) => Promise<T>): Promise<T> {
    return this.tx.one(fn);
  }

  /** A heavy read of one collection's objects: on the replica when it is current for the collection. */
  collectionRead<T>(collectionId: number, fn: (q: PgSession) => Promise<T>): Promise<T> {
    return this.replica === undefined ? this.one(fn) : this.replica.read(this, collectionId, fn);
  }

  /** Looks at the schema again (after open, or after a backfill finished on this or another node). */
  async refreshBusyTable(): Promise<void> {
    const rows = await this.one((q) => q.raw<{ present: boolean }>("SELECT to_regclass('object_busy') IS NOT NULL AS present"));
    this.busyTable = rows[0]?.present === true;
    const index = await this.one((q) =>
      q.raw<{ valid: boolean }>("SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass('objects_time_box')"),
    );
    this.timeBoxIndex = index[0]?.valid === true;
  }

  /** Whether every object has its object_busy row; true stays true (a backfill is never undone). */
  async busyIndexComplete(q: PgSession): Promise<boolean> {
    if (this.busyComplete || !this.busyTable) return this.busyComplete;
    const rows = await q.raw('SELECT 1 FROM schema_migrations WHERE version = $1', [OBJECT_BUSY_BACKFILL]);
    this.busyComplete = rows.length > 0;
    return this.busyComplete;
  }
}
