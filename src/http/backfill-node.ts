// Runs the pending backfills in the background of a serving node (DESIGN.md §6) and makes their
// progress visible: Prometheus gauges read from the checkpoint table at each scrape, and JSON log
// lines every few batches and at each change of state. The runner has its own connection (on SQLite
// in a worker thread), slows down on the node's recent request latency, and stops at `almanac migrate
// pause`. On PostgreSQL every node starts one; the claim in the database lets one of them run it and
// the others wait.
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { BackfillEvent, BackfillProgress, BackfillState } from '../store/backfill-engine.ts';
import * as pgBackfill from '../store/postgres/backfill.ts';
import { PostgresStore } from '../store/postgres/postgres-store.ts';
import { listBackfills } from '../store/sqlite/backfill.ts';
import { pendingBackfills } from '../store/sqlite/backfill-runner.ts';
import { BackfillThread, ownerProcessGone, threadCanRun } from '../store/sqlite/backfill-thread.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import type { HttpMetrics } from './metrics.ts';

export interface BackgroundBackfill {
  /** Resolves when every pending backfill is done (or the runner stopped or failed). */
  readonly finished: Promise<void>;
  /** Lets the batch in progress finish, then closes the runner's connection. */
  stop(): Promise<void>;
}

const STATE_VALUE: Record<BackfillState, number> = { pending: 0, running: 1, paused: 2, done: 4 };

function registerGauges(metrics: HttpMetrics, read: () => Promise<BackfillProgress[]>): void {
  const gauge = (name: string, help: string, value: (b: BackfillProgress) => number | null): void => {
    if (metrics.registry.getSingleMetric(name) !== undefined) metrics.registry.removeSingleMetric(name);
    new Gauge({
      name,
      help,
      labelNames: ['migration'],
      registers: [metrics.registry],
      async collect() {
        for (const b of await read().catch(() => [])) {
          const v = value(b);
          if (v !== null) this.set({ migration: `${b.version}-${b.name}` }, v);
        }
      },
    });
  };
  gauge('almanac_backfill_rows_done', 'Rows a backfill has done (committed with its checkpoint)', (b) => b.rowsDone);
  gauge('almanac_backfill_rows_total', 'Rows a backfill has to do in all', (b) => b.rowsTotal);
  gauge('almanac_backfill_state', 'Backfill state: 0 pending, 1 running, 2 paused, 3 throttled by request latency, 4 done', (b) =>
    b.state === 'running' && b.throttled ? 3 : STATE_VALUE[b.state],
  );
  gauge('almanac_backfill_eta_seconds', 'Seconds a backfill still needs at its current rate', (b) => b.etaSeconds);
  gauge('almanac_backfill_rows_per_second', 'A backfill’s recent rate', (b) => b.rowsPerSecond);
  gauge('almanac_backfill_longest_lock_seconds', 'Longest write lock one batch of a backfill held', (b) => b.longestLockMs / 1000);
}

function logEvent(logger: Logger, event: BackfillEvent): void {
  if (event.kind === 'failed') {
    logger.error({ err: event.error, backfill: event.version }, 'backfill failed; it resumes from its checkpoint at the next start');
    return;
  }
  if (event.kind === 'waiting') {
    logger.info({ backfill: event.version, owner: event.owner }, 'backfill claimed by another node; waiting');
    return;
  }
  const p = event.progress;
  logger.info(
    {
      backfill: `${p.version}-${p.name}`,
      event: event.kind,
      rowsDone: p.rowsDone,
      rowsTotal: p.rowsTotal,
      rowsPerSecond: p.rowsPerSecond === null ? null : Math.round(p.rowsPerSecond),
      etaSeconds: p.etaSeconds === null ? null : Math.round(p.etaSeconds),
      batchSize: event.batchSize,
      lastBatchMs: Number(event.lastBatchMs.toFixed(2)),
      longestLockMs: Number(p.longestLockMs.toFixed(2)),
      throttled: p.throttled,
    },
    `backfill ${event.kind}`,
  );
}

/**
 * The latency the backfill compares with must be this node's own before the backfill. A node just
 * started (the usual case: the restart into the new release) has answered nothing yet, so the
 * baseline would be the 5 ms floor and the runner would see ordinary load as "20× slower" and crawl
 * (throttled the whole way, 4–5× slower than the rehearsal said). So it first waits for some requests
 * to measure, up to BASELINE_WAIT_MS (an idle node keeps the floor, and with under 20 requests in 5 s
 * the pressure reads 1 anyway).
 */
const BASELINE_WAIT_MS = 2_000;
async function baseline(metrics: HttpMetrics, logger: Logger, stopped: () => boolean): Promise<void> {
  const until = Date.now() + BASELINE_WAIT_MS;
  while (!stopped() && metrics.recent.p99(60_000) === undefined && Date.now() < until) await sleep(100);
  metrics.recent.markBaseline();
  logger.info({ baselineP99Ms: metrics.recent.p99(60_000) ?? null }, 'backfill latency baseline taken');
}

/**
 * A claim's owner that ran on this host and whose process no longer exists (a kill -9, a crash) is
 * gone for certain, so its claim is taken over at once rather than after the 30 s staleness wait.
 * Owners on other hosts, or whose process id is alive, are left to the staleness rule. (Hostnames
 * tell containers apart: Docker and Kubernetes give each its own.)
 */
function ownerGoneFromThisHost(store: SqliteStore | PostgresStore): (owner: string) => Promise<boolean> {
  return async (owner) => ownerProcessGone(await store.liveNodes(0), owner);
}

/** Starts the runner when this release has backfills pending; undefined when there is none. */
export function startBackgroundBackfill(store: Store, metrics: HttpMetrics, logger: Logger, node: string): BackgroundBackfill | undefined {
  if (store instanceof SqliteStore) return startOnSqlite(store, metrics, logger, node);
  if (store instanceof PostgresStore) return startOnPostgres(store, metrics, logger, node);
  return undefined;
}

function startOnSqlite(store: SqliteStore, metrics: HttpMetrics, logger: Logger, node: string): BackgroundBackfill | undefined {
  const db = new Database(store.file);
  db.pragma('busy_timeout = 5');
  if (pendingBackfills(db, store.migrations).length === 0) {
    db.close();
    return undefined;
  }
  registerGauges(metrics, () => Promise.resolve(db.open ? listBackfills(db) : []));
  // The thread imports the shipped migrations' code itself (derive functions do not cross threads).
  if (!threadCanRun(store.migrations)) throw new Error('a serving node runs backfills of the shipped migration set only');
  return startThread(store, db, metrics, logger, node);
}

/** The runner in a worker thread, so its batches never stall this thread's requests. */
function startThread(store: SqliteStore, db: Database.Database, metrics: HttpMetrics, logger: Logger, node: string): BackgroundBackfill {
  let stopped = false;
  let thread: BackfillThread | undefined;
  const finished = baseline(metrics, logger, () => stopped)
    .then(() => {
      if (stopped) return undefined;
      thread = new BackfillThread({
        file: store.file,
        node,
        versions: store.migrations.map((m) => m.version),
        pressure: () => metrics.recent.pressure(),
        onEvent: (event) => logEvent(logger, event),
      });
      return thread.finished;
    })
    .then(
      () => undefined,
      (error: unknown) => logger.error({ err: error }, 'background backfill stopped; it resumes from its checkpoint at the next start'),
    );
  return {
    finished,
    stop: async () => {
      stopped = true;
      await thread?.stop();
      await finished;
      db.close(); // the gauges' connection
    },
  };
}

/**
 * On PostgreSQL the pending list is known only after a query, so the runner starts asynchronously;
 * a node with nothing pending closes its connection at once and `finished` resolves.
 */
function startOnPostgres(store: PostgresStore, metrics: HttpMetrics, logger: Logger, node: string): BackgroundBackfill {
  let runner: pgBackfill.PostgresBackfillRunner | undefined;
  let client: Awaited<ReturnType<typeof pgBackfill.backfillConnection>> | undefined;
  let stopped = false;
  const started = (async () => {
    client = await pgBackfill.backfillConnection(store.url);
    const own = client;
    if ((await pgBackfill.pendingBackfills(own, store.migrations)).length === 0 || stopped) {
      client = undefined;
      await own.end().catch(() => undefined);
      return;
    }
    // The connection stays open after the run, until stop(), so the gauges keep showing the result.
    registerGauges(metrics, () => pgBackfill.listBackfills(own));
    await baseline(metrics, logger, () => stopped);
    if (stopped) return; // stop() ends the connection
    runner = new pgBackfill.PostgresBackfillRunner(own, store.migrations, {
      node,
      ownerGone: ownerGoneFromThisHost(store),
      pressure: () => metrics.recent.pressure(),
      onEvent: (event) => logEvent(logger, event),
    });
    await runner.run();
    await store.refreshBusyTable();
  })();
  const finished = started.then(
    () => undefined,
    (error: unknown) => {
      // A failed batch was logged by the failed event; a lost connection ends the runner until the next start.
      logger.error({ err: error }, 'background backfill stopped; it resumes from its checkpoint at the next start');
    },
  );
  return {
    finished,
    stop: async () => {
      stopped = true;
      await runner?.stop();
      await finished;
      await client?.end().catch(() => undefined);
    },
  };
}
