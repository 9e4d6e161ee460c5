// How the PostgreSQL store talks to the database: one pooled connection per transaction, writes as
// READ COMMITTED transactions retried whole when they lose a race with another node, listings as one
// REPEATABLE READ READ ONLY snapshot, single statements on the pool. Failures that mean "PostgreSQL
// cannot answer now" become StoreUnavailable (→ 503 + Retry-After). A write whose COMMIT loses its
// connection is not guessed at: its outcome is asked of PostgreSQL (commit-outcome.ts). Must not
// import DAV or HTTP.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { StoreUnavailable } from '../errors.ts';
import { commitOutcome } from './commit-outcome.ts';
import { isRetryable, isUnavailable, PgSession, unavailable } from './session.ts';

const TRANSACTION_ATTEMPTS = 6;

/** Where the store reports what an operator must know about (pino's logger fits). */
export interface StoreLog {
  error(fields: Record<string, unknown>, message: string): void;
}

/** Without a logger the line still reaches the process's error output. */
export const STDERR_LOG: StoreLog = {
  error: (fields, message) => {
    process.stderr.write(`${JSON.stringify({ level: 'error', time: Date.now(), ...fields, msg: message })}\n`);
  },
};

export interface TransactionSettings {
  readonly pool: pg.Pool;
  readonly url: string;
  /** How long a COMMIT that lost its connection is looked into before the answer is "unknown". */
  readonly commitCheckMs: number;
  readonly log: StoreLog;
}

/** Writes take their transaction id in the same round trip as BEGIN: nothing extra on the normal path. */
const BEGIN_WRITE = 'BEGIN; SELECT pg_current_xact_id()::text AS xid';
const BEGIN_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

export class PgTransactions {
  private readonly settings: TransactionSettings;
  private closed = false;

  constructor(settings: TransactionSettings) {
    this.settings = settings;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settings.pool.end();
  }

  private async checkout(): Promise<pg.PoolClient> {
    if (this.closed) throw new StoreUnavailable('the store is closed', 1);
    try {
      return await this.settings.pool.connect();
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** One READ COMMITTED transaction that may change data. */
  write<T>(fn: (q: PgSession) => Promise<T>): Promise<T> {
    return this.transact('write', fn);
  }

  /** Several statements that must agree with each other: one snapshot. */
  snapshot<T>(fn: (q: PgSession) => Promise<T>): Promise<T> {
    return this.transact('snapshot', fn);
  }

  /** A single statement outside an explicit transaction (it is its own snapshot). */
  async one<T>(fn: (q: PgSession) => Promise<T>): Promise<T> {
    try {
      return await fn(new PgSession(this.settings.pool));
    } catch (error) {
      throw isUnavailable(error) ? unavailable(error) : error;
    }
  }

  /** One transaction, retried whole when it lost a race with another transaction (any node). */
  private async transact<T>(kind: 'write' | 'snapshot', fn: (q: PgSession) => Promise<T>): Promise<T> {
    let delay = 5;
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.checkout();
      let broken: Error | undefined;
      // A connection that breaks between two statements reports it as an event on the checked-out
      // client; without a listener that would crash the process. The next statement fails anyway.
      const onError = (error: Error): void => {
        broken = error;
      };
      client.on('error', onError);
      let lost: { xid: string; error: unknown; result: T } | undefined;
      try {
        const xid = kind === 'write' ? await beginWrite(client) : await client.query(BEGIN_SNAPSHOT).then(() => undefined);
        const result = await fn(new PgSession(client));
        try {
          await client.query('COMMIT');
        } catch (error) {
          // Only a lost connection leaves the outcome open; any answer from PostgreSQL means rolled back.
          if (!isUnavailable(error)) throw error;
          broken = error as Error;
          // A snapshot changed nothing and every row of it has arrived: the answer stands as read.
          if (xid === undefined) return result;
          lost = { xid, error, result };
        }
        if (lost === undefined) return result;
      } catch (error) {
        if (isUnavailable(error)) broken = error as Error;
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError as Error;
        });
        if (isUnavailable(error)) throw unavailable(error);
        if (!isRetryable(error)) throw error;
        if (attempt >= TRANSACTION_ATTEMPTS) throw new StoreUnavailable('too many concurrent writers on one collection; try again', 1, { cause: error });
        await sleep(delay + Math.random() * delay);
        delay = Math.min(delay * 2, 100);
        continue;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
      // The broken connection is back in the pool's hands (dropped) before the check waits.
      return await this.afterLostCommit(lost.xid, lost.error, lost.result);
    }
  }

  /** The COMMIT's reply was lost: the result stands only if PostgreSQL says the transaction committed. */
  private async afterLostCommit<T>(xid: string, error: unknown, result: T): Promise<T> {
    const report = await commitOutcome(xid, { url: this.settings.url, boundMs: this.settings.commitCheckMs });
    if (report.outcome === 'committed') return result;
    if (report.outcome === 'aborted') throw unavailable(error);
    this.settings.log.error(
      { xid, waitedMs: report.waitedMs, lastSeen: report.lastSeen, err: (error as Error).message },
      'a write lost its connection during COMMIT and its outcome is unknown: it may or may not be stored; the client got 503',
    );
    throw new StoreUnavailable(`PostgreSQL did not say whether the write was stored (transaction ${xid}): ${(error as Error).message}`, 2, { cause: error });
  }
}

async function beginWrite(client: pg.PoolClient): Promise<string> {
  // Two statements in one simple-protocol message: pg answers with one result per statement.
  const results = (await client.query(BEGIN_WRITE)) as unknown as pg.QueryResult<{ xid: string }>[];
  const xid = results[1]?.rows[0]?.xid;
  if (xid === undefined) throw new Error('pg_current_xact_id returned no row');
  return xid;
}
