// Trouble states for the replay: another process holding the store's write lock (what a backup, a
// migration or a CLI run looks like to the server), and the checks that keep each client's data safe.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { DATABASE_FILE } from '../../src/store/sqlite/sqlite-store.ts';
import { expectThat, type ServerUnderTest } from './lifecycle.ts';
import type { Answer, Multistatus } from './session.ts';

/**
 * Runs fn while a second connection keeps the server's writers waiting: SQLite's write lock, or on
 * PostgreSQL an EXCLUSIVE lock on the collections table (what a migration step looks like), which
 * every write must row-lock first while plain reads go on.
 */
export async function whileStoreLocked<T>(server: ServerUnderTest, fn: () => Promise<T>): Promise<T> {
  if (server.database !== undefined) return whilePostgresLocked(server.database, fn);
  const db = new Database(join(server.dataDir, DATABASE_FILE));
  try {
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    try {
      return await fn();
    } finally {
      db.exec('ROLLBACK');
    }
  } finally {
    db.close();
  }
}

async function whilePostgresLocked<T>(url: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('LOCK TABLE collections IN EXCLUSIVE MODE');
    try {
      return await fn();
    } finally {
      await client.query('ROLLBACK');
    }
  } finally {
    await client.end();
  }
}

/**
 * A write refused for a passing reason must be 503 with a Retry-After (seconds or HTTP date): DAVx⁵
 * retries later, Thunderbird reports "server not available" and keeps the local change. A 4xx would
 * be a hard error (DAVx⁵), an auth prompt (Thunderbird, Evolution), or — 404/410/412 — a deletion or
 * a conflict the user never caused.
 */
export function expectRetryLater(answer: Answer, what: string): void {
  expectThat(answer.status === 503, `${what} while the store is locked must answer 503 (got ${answer.status})`, answer);
  const retryAfter = answer.headers['retry-after'] ?? '';
  expectThat(/^\d+$/u.test(retryAfter) || !Number.isNaN(Date.parse(retryAfter)), `${what}: 503 must carry Retry-After (got ${JSON.stringify(retryAfter)})`, answer);
}

/** A read during trouble is either a full answer or a 5xx — never a partial answer that looks like deletions. */
export function expectNoPhantomDeletions(multistatus: Multistatus, answer: Answer): void {
  const removed = multistatus.members.filter((m) => m.status === 404 || m.status === 410);
  expectThat(removed.length === 0, `a read during trouble reported ${removed.map((m) => m.href).join(', ')} as removed`, answer);
}
