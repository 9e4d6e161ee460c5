// Heavy collection reads (calendar and address book queries, multiget) from a PostgreSQL streaming
// replica, without ever showing a client less than it has written. Every change to a collection's
// members bumps the collection's sync position on the primary, under the collection's row lock, so
// the changes of one collection commit in position order. The primary is asked for the position now
// (one primary-key lookup); a replica snapshot that holds the collection at that position or later
// holds every change acknowledged before the request, on any node. A replica that is behind, or
// cannot answer, leaves the read to the primary: a stale or missing replica costs one extra round
// trip, never a wrong answer or a 503. Must not import DAV or HTTP.
import type pg from 'pg';
import { createPool, type PgSession } from './session.ts';
import { PgTransactions, type StoreLog } from './transactions.ts';

/** After the replica failed to answer, the primary serves alone this long before the replica is tried again. */
const REST_MS = 5_000;

const STALE = Symbol('stale');

export interface ReplicaSettings {
  readonly url: string;
  readonly poolSize?: number;
  readonly statementTimeoutMs?: number;
  readonly onConnectionError: (error: Error) => void;
  readonly log: StoreLog;
}

/** Where the routed reads were answered (for metrics and tests). */
export interface ReplicaStats {
  replica: number;
  primary: number;
}

export class ReplicaReads {
  private readonly tx: PgTransactions;
  /** Real time (performance.now), not the store's clock: a test's frozen clock must not park the replica. */
  private restUntil = 0;
  readonly stats: ReplicaStats = { replica: 0, primary: 0 };

  constructor(settings: ReplicaSettings) {
    const pool: pg.Pool = createPool(
      {
        url: settings.url,
        ...(settings.poolSize === undefined ? {} : { max: settings.poolSize }),
        ...(settings.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: settings.statementTimeoutMs }),
      },
      settings.onConnectionError,
    );
    // No write ever runs here, so no COMMIT outcome is ever looked into.
    this.tx = new PgTransactions({ pool, url: settings.url, commitCheckMs: 0, log: settings.log });
  }

  close(): Promise<void> {
    return this.tx.close();
  }

  /** Runs `read` on the replica when it is current for this collection, otherwise on the primary. */
  async read<T>(primary: { one<R>(fn: (q: PgSession) => Promise<R>): Promise<R> }, collectionId: number, read: (q: PgSession) => Promise<T>): Promise<T> {
    if (performance.now() >= this.restUntil) {
      const position = await primary.one((q) => q.raw<{ sync_seq: number }>('SELECT sync_seq FROM collections WHERE id = $1', [collectionId]));
      const wanted = position[0]?.sync_seq;
      if (wanted !== undefined) {
        try {
          const answer = await this.tx.snapshot(async (q) => {
            const here = await q.raw<{ sync_seq: number }>('SELECT sync_seq FROM collections WHERE id = $1', [collectionId]);
            const seq = here[0]?.sync_seq;
            return seq !== undefined && seq >= wanted ? { value: await read(q) } : STALE;
          });
          if (answer !== STALE) {
            this.stats.replica += 1;
            return answer.value;
          }
        } catch {
          // Unreachable, restarting, or a query cancelled by replay: the primary answers instead.
          this.restUntil = performance.now() + REST_MS;
        }
      }
    }
    this.stats.primary += 1;
    return primary.one(read);
  }
}
