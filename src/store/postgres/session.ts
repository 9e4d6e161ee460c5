// Runs Kysely-built queries on node-postgres. Kysely is used as a typed query builder only (compile,
// then execute on one pooled client), the same way the SQLite store uses it: the store itself decides
// where a transaction starts, which isolation level it has, when it is retried, and which failures
// mean "the database is unreachable" (→ StoreUnavailable → 503). Must not import DAV or HTTP.
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type Compilable,
} from 'kysely';
import pg from 'pg';
import { StoreUnavailable } from '../errors.ts';
import type { PostgresDatabase } from './schema.ts';

export function queryBuilder(): Kysely<PostgresDatabase> {
  return new Kysely<PostgresDatabase>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

const INT8 = 20;
const NUMERIC = 1700;

/** bigint and numeric (SUM/COUNT) as numbers: every value the store keeps stays below 2^53. */
export const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string): unknown => {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text') as unknown;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

type Queryable = Pick<pg.PoolClient, 'query'>;

export class PgSession {
  private readonly client: Queryable;

  constructor(client: Queryable) {
    this.client = client;
  }

  async all<R>(query: Compilable<R>): Promise<R[]> {
    const compiled = query.compile();
    const result = await this.client.query(compiled.sql, compiled.parameters as unknown[]);
    return result.rows as R[];
  }

  async first<R>(query: Compilable<R>): Promise<R | undefined> {
    return (await this.all(query))[0];
  }

  /** Row count of an INSERT/UPDATE/DELETE. */
  async run(query: Compilable<unknown>): Promise<number> {
    const compiled = query.compile();
    const result = await this.client.query(compiled.sql, compiled.parameters as unknown[]);
    return result.rowCount ?? 0;
  }

  /** For the few statements written as SQL text (DISTINCT ON, the pruner's self-join). */
  async raw<R>(text: string, parameters: readonly unknown[] = []): Promise<R[]> {
    const result = await this.client.query(text, parameters as unknown[]);
    return result.rows as R[];
  }
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Conflicts between concurrent transactions: running the whole transaction again resolves them. */
export function isRetryable(error: unknown): boolean {
  const code = sqlState(error);
  // serialization_failure, deadlock_detected, unique_violation (two nodes inserted the same row: the
  // retry sees the winner and answers like any other existing row).
  return code === '40001' || code === '40P01' || code === '23505';
}

/**
 * The database cannot answer now: unreachable, restarting, shutting down, too busy, or a statement
 * ran past its timeout. Everything else is a bug or a domain error and is left as it is.
 */
export function isUnavailable(error: unknown): boolean {
  const code = sqlState(error);
  if (code !== undefined) {
    if (code.startsWith('08')) return true; // connection exceptions
    if (code.startsWith('57P')) return true; // admin/crash shutdown, cannot connect now
    if (code === '57014' || code === '55P03' || code === '53300' || code === '53400') return true; // timeouts, lock wait, too many connections
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) return true;
    return false;
  }
  const message = (error as Error | null)?.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable/u.test(message);
}

export function unavailable(error: unknown): StoreUnavailable {
  const message = (error as Error | null)?.message ?? String(error);
  return new StoreUnavailable(`PostgreSQL is unavailable: ${message}`, 2, { cause: error });
}

export interface PoolSettings {
  readonly url: string;
  readonly max?: number;
  /** Per statement of a request; a query that takes longer becomes StoreUnavailable. */
  readonly statementTimeoutMs?: number;
  /** How long a request waits for a lock (a migration's, another node's writer) before it is a 503. */
  readonly lockTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

/**
 * The request pool. A broken connection is dropped by the pool and the next checkout opens a new
 * one, so the node recovers by itself once PostgreSQL is back.
 */
export function createPool(settings: PoolSettings, onIdleError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.max ?? 10,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: settings.statementTimeoutMs ?? 10_000,
    // A lock held past this (a migration step, a stuck writer) is a passing state: 503 + Retry-After
    // soon, rather than a request parked until the client gives up. Writers of one collection queue
    // on its row for milliseconds each, far below it.
    lock_timeout: Math.min(settings.lockTimeoutMs ?? 2_000, settings.statementTimeoutMs ?? 10_000),
    idle_in_transaction_session_timeout: 60_000,
    application_name: 'almanac',
    types: TYPES,
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', onIdleError);
  return pool;
}
