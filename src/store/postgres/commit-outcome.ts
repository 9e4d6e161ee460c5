// What became of a write whose COMMIT lost its connection. The reply was lost, not necessarily the
// commit: PostgreSQL may have made it durable just before the connection broke. The transaction's id
// (taken inside the transaction) lets a fresh connection ask pg_xact_status, so the client is told
// the truth: acknowledged when it committed, 503 when it did not (the retry is safe), and 503 with
// an error logged when nobody can tell within the bound. Must not import DAV or HTTP.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isUnavailable } from './session.ts';

export type CommitOutcome = 'committed' | 'aborted' | 'unknown';

export interface OutcomeCheck {
  readonly url: string;
  /** The whole check, connecting included, ends after this; then the outcome is 'unknown'. */
  readonly boundMs: number;
}

export interface OutcomeReport {
  readonly outcome: CommitOutcome;
  readonly waitedMs: number;
  /** pg_xact_status's last answer ('in progress', null), or why no answer came. */
  readonly lastSeen: string;
}

const POLL_MS = 50;

/**
 * Asks PostgreSQL what became of transaction `xid` (an xid8 as text). 'in progress' (the backend has
 * not noticed its client is gone, or it waits for a synchronous standby) and an unreachable server
 * are polled until the bound; any other failure ends the check at once as 'unknown'.
 */
export async function commitOutcome(xid: string, check: OutcomeCheck): Promise<OutcomeReport> {
  const started = Date.now();
  const remaining = (): number => check.boundMs - (Date.now() - started);
  let client: pg.Client | undefined;
  let lastSeen = 'not asked';
  try {
    while (remaining() > 0) {
      try {
        if (client === undefined) {
          const fresh = new pg.Client({
            connectionString: check.url,
            connectionTimeoutMillis: Math.max(1, Math.ceil(remaining())),
            statement_timeout: Math.max(1, Math.ceil(remaining())),
            application_name: 'almanac-commit-check',
          });
          // A connection breaking while idle between two polls must not crash the process.
          fresh.on('error', () => undefined);
          client = fresh;
          await fresh.connect();
        }
        // A commit waiting for a synchronous standby is durable here but not yet visible to anyone, and
        // must not be acknowledged: "committed" counts only once the transaction is in no fresh
        // snapshot's running list (PostgreSQL 15 already reports such a commit as 'in progress').
        const rows = (
          await client.query<{ status: string | null; finished: boolean }>(
            'SELECT pg_xact_status($1::xid8) AS status, pg_visible_in_snapshot($1::xid8, pg_current_snapshot()) AS finished',
            [xid],
          )
        ).rows;
        const status = rows[0]?.status ?? null;
        if (status === 'aborted') return { outcome: status, waitedMs: Date.now() - started, lastSeen: status };
        if (status === 'committed' && rows[0]?.finished === true) return { outcome: status, waitedMs: Date.now() - started, lastSeen: status };
        // NULL: the id is older than the commit log PostgreSQL keeps, which seconds after the write cannot be.
        lastSeen = status === 'committed' ? 'committed, still running (waiting for a synchronous standby?)' : (status ?? 'null');
        if (status === null) break;
      } catch (error) {
        lastSeen = (error as Error).message;
        if (!isUnavailable(error)) break;
        await client?.end().catch(() => undefined);
        client = undefined;
      }
      await sleep(Math.min(POLL_MS, Math.max(0, remaining())));
    }
  } finally {
    await client?.end().catch(() => undefined);
  }
  return { outcome: 'unknown', waitedMs: Date.now() - started, lastSeen };
}
