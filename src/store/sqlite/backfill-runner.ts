// The background backfill runner of a serving node (DESIGN.md §6): claims each pending backfill
// (one node runs it), runs its batches with a batch size adapted to a target batch time, yields to
// the event loop between batches, holds back while request latency is above its baseline, and
// stops at a pause flag another process sets in the database. Must not import DAV or HTTP: the
// latency signal and the logging come in as functions.
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { claimBackfill, noteBatchStats, readBackfill, releaseBackfill, runBatch, type BackfillProgress } from './backfill.ts';
import { readAppliedMigrations, type SqliteMigration } from './migrator.ts';

export interface BackfillRunnerOptions {
  readonly db: Database.Database;
  readonly migrations: readonly SqliteMigration[];
  /** This node's id; the claim in the checkpoint table names it. */
  readonly node: string;
  /** The batch time the size adapts to (default 25 ms). */
  readonly targetBatchMs?: number;
  /** No batch should hold the write lock longer (default 100 ms); one that did is cut to a quarter. */
  readonly lockBudgetMs?: number;
  readonly initialBatchSize?: number;
  readonly maxBatchSize?: number;
  /**
   * Request latency now relative to before the backfill (1 = as before). Above `pressureLimit`
   * (default 1.5) the runner rests longer between batches and halves its batch time.
   */
  readonly pressure?: () => number;
  readonly pressureLimit?: number;
  /** Rest between batches, as a share of the batch's own time (default 1: half the time working). */
  readonly restRatio?: number;
  /** How often a paused or waiting runner looks at the database again (default 250 ms). */
  readonly pollMs?: number;
  /** A claim whose owner has not written for this long is taken over (default 30 s). */
  readonly staleAfterMs?: number;
  /** Progress event every this many batches (default 20), plus one at each change of state. */
  readonly reportEvery?: number;
  readonly onEvent?: (event: BackfillEvent) => void;
  /** High-resolution milliseconds; tests pass a virtual clock. */
  readonly clock?: () => number;
  readonly wait?: (ms: number) => Promise<void>;
}

export type BackfillEvent =
  | { readonly kind: 'progress' | 'started' | 'paused' | 'resumed' | 'done' | 'throttled'; readonly progress: BackfillProgress; readonly lastBatchMs: number; readonly batchSize: number }
  | { readonly kind: 'waiting'; readonly version: number; readonly owner: string | null }
  | { readonly kind: 'failed'; readonly version: number; readonly error: unknown };

/** What the runner did, for tests and the rehearsal. */
export interface BackfillRunSummary {
  readonly completed: number[];
  readonly batches: number;
  readonly longestLockMs: number;
  readonly batchSizes: number[];
  /** Each batch's lock time (ms), in order: what a rehearsal reports. */
  readonly lockTimes: number[];
  /** Rows written, over every backfill run. */
  readonly rows: number;
  readonly stopped: boolean;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

export function pendingBackfills(db: Database.Database, migrations: readonly SqliteMigration[]): SqliteMigration[] {
  const applied = new Set(readAppliedMigrations(db).map((m) => m.version));
  return migrations.filter((m) => m.phase === 'backfill' && m.backfill !== undefined && !applied.has(m.version));
}

export class BackfillRunner {
  private readonly options: BackfillRunnerOptions;
  private stopping = false;
  private running: Promise<BackfillRunSummary> | undefined;
  private readonly clock: () => number;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(options: BackfillRunnerOptions) {
    this.options = options;
    this.clock = options.clock ?? (() => performance.now());
    this.wait = options.wait ?? ((ms) => sleep(ms));
  }

  /** Starts (once) and resolves when every pending backfill is done or `stop()` was called. */
  run(): Promise<BackfillRunSummary> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Finishes the batch in progress (never interrupts one) and resolves once the runner is idle. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.running !== undefined) await this.running.catch(() => undefined);
  }

  private async loop(): Promise<BackfillRunSummary> {
    // SQLite checkpoints the WAL inside the COMMIT that crosses its threshold, after the write lock
    // is released but before COMMIT returns: it would count as lock time and stall the batch. The
    // runner checkpoints itself between batches instead (PASSIVE: never waits for readers or writers).
    this.options.db.pragma('wal_autocheckpoint = 0');
    const summary = { completed: [] as number[], batches: 0, longestLockMs: 0, batchSizes: [] as number[], lockTimes: [] as number[], rows: 0, stopped: false };
    for (const migration of pendingBackfills(this.options.db, this.options.migrations)) {
      try {
        const finished = await this.runOne(migration, summary);
        if (!finished) return { ...summary, stopped: true };
        summary.completed.push(migration.version);
      } catch (error) {
        this.options.onEvent?.({ kind: 'failed', version: migration.version, error });
        throw error;
      }
    }
    return summary;
  }

  /** Claims and runs one backfill; false when stopped before its end. */
  private async runOne(migration: SqliteMigration, summary: { batches: number; longestLockMs: number; batchSizes: number[]; lockTimes: number[]; rows: number }): Promise<boolean> {
    const o = this.options;
    const target = o.targetBatchMs ?? 25;
    const budget = o.lockBudgetMs ?? 100;
    const maxSize = o.maxBatchSize ?? 20_000;
    const poll = o.pollMs ?? 250;
    const emit = (kind: 'progress' | 'started' | 'paused' | 'resumed' | 'done' | 'throttled', lastBatchMs: number, batchSize: number): void => {
      const progress = readBackfill(o.db, migration.version);
      if (progress !== undefined) o.onEvent?.({ kind, progress, lastBatchMs, batchSize });
    };

    let claim: BackfillProgress | undefined;
    while ((claim = claimBackfill(o.db, migration, o.node, Date.now(), o.staleAfterMs ?? 30_000, o.initialBatchSize ?? 100)) === undefined) {
      o.onEvent?.({ kind: 'waiting', version: migration.version, owner: readBackfill(o.db, migration.version)?.owner ?? null });
      if (this.stopping) return false;
      await this.wait(poll * 4);
    }
    if (claim.state === 'done') return true;
    let batchSize = Math.max(1, Math.min(maxSize, claim.batchSize));
    let rate: number | null = claim.rowsPerSecond;
    let paused = false;
    let throttled = false;
    let batches = 0;
    let longest = claim.longestLockMs;
    let lastMs = 0;
    let pausedPolls = 0;
    emit('started', 0, batchSize);

    while (!this.stopping) {
      const pressure = o.pressure?.() ?? 1;
      const wasThrottled = throttled;
      throttled = pressure > (o.pressureLimit ?? 1.5);
      // Under pressure a batch aims at half the time, so each lock wait a request may meet is shorter.
      const aim = throttled ? target / 2 : target;
      const begun = this.clock();
      let batch;
      try {
        batch = runBatch(o.db, migration, { node: o.node, batchSize, rowsPerSecond: rate, throttled, clock: this.clock });
      } catch (error) {
        // Another writer (a tool, a backup) holds the lock: the batch rolled back whole; try again later.
        if (!isBusy(error)) throw error;
        await this.wait(poll);
        continue;
      }
      if (batch.paused || (batch.rows === 0 && !batch.done)) {
        if (!paused) {
          paused = true;
          emit('paused', lastMs, batchSize);
        }
        const owner = readBackfill(o.db, migration.version)?.owner;
        if (owner !== o.node) return this.runOne(migration, summary); // taken over: claim again (waits)
        // Keep the claim alive while paused, so no other node takes over a backfill held on purpose.
        if (++pausedPolls % 20 === 0) noteBatchStats(o.db, migration.version, longest, rate, false, o.node, Date.now());
        await this.wait(poll);
        continue;
      }
      if (paused) {
        paused = false;
        emit('resumed', lastMs, batchSize);
      }
      lastMs = batch.lockMs;
      longest = Math.max(longest, batch.lockMs);
      summary.batches += 1;
      summary.longestLockMs = Math.max(summary.longestLockMs, batch.lockMs);
      summary.batchSizes.push(batchSize);
      summary.lockTimes.push(batch.lockMs);
      summary.rows += batch.rows;
      batches += 1;
      if (batch.done) {
        noteBatchStats(o.db, migration.version, longest, rate, false, o.node, Date.now());
        emit('done', batch.lockMs, batchSize);
        return true;
      }
      // Adapt: scale toward the aim, growing at most 1.5× per batch (a wrong guess upward costs lock
      // time, downward only throughput); a batch over budget is cut to a quarter.
      const ms = Math.max(batch.lockMs, 0.05);
      batchSize = batch.lockMs > budget ? Math.max(1, Math.floor(batchSize / 4)) : Math.max(1, Math.min(maxSize, Math.round(batchSize * Math.min(1.5, aim / ms))));
      if (batches % 20 === 0) o.db.pragma('wal_checkpoint(PASSIVE)');
      const rest = Math.max(1, batch.lockMs * (o.restRatio ?? 1)) * (throttled ? Math.min(20, pressure * pressure) : 1);
      await this.wait(rest);
      const elapsed = Math.max(0.001, this.clock() - begun);
      const instant = (batch.rows / elapsed) * 1000;
      rate = rate === null ? instant : rate * 0.8 + instant * 0.2;
      if (throttled !== wasThrottled && throttled) emit('throttled', batch.lockMs, batchSize);
      if (batches % 10 === 0 || throttled !== wasThrottled) noteBatchStats(o.db, migration.version, longest, rate, throttled, o.node, Date.now());
      if (batches % (o.reportEvery ?? 20) === 0) emit('progress', batch.lockMs, batchSize);
    }
    noteBatchStats(o.db, migration.version, longest, rate, throttled, o.node, Date.now());
    releaseBackfill(o.db, migration.version, o.node);
    return false;
  }
}
