// The store-independent engine of a background backfill (DESIGN.md §6): claim a pending backfill
// (one node runs it), run its batches with a batch size adapted to a target batch time, rest between
// batches, hold back while request latency is above its baseline, stop at the pause flag another
// process sets in the database, and report progress. What a batch, a claim or a checkpoint IS lives
// in each store's driver (SQLite: sqlite/backfill.ts; PostgreSQL: postgres/backfill.ts); this module
// only decides when and how big. Must not import a store, DAV or HTTP.
import { setTimeout as sleep } from 'node:timers/promises';

export type BackfillState = 'pending' | 'running' | 'paused' | 'done';

export interface BackfillProgress {
  readonly version: number;
  readonly name: string;
  readonly state: BackfillState;
  readonly paused: boolean;
  readonly lastKey: number | null;
  readonly rowsDone: number;
  readonly rowsTotal: number;
  readonly batches: number;
  readonly batchSize: number;
  readonly rowsPerSecond: number | null;
  readonly longestLockMs: number;
  /** The runner is holding back because request latency rose. */
  readonly throttled: boolean;
  readonly owner: string | null;
  readonly ownerHeartbeatAt: number | null;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
  /** Seconds left at the last recorded rate, or null when unknown. */
  readonly etaSeconds: number | null;
}

export interface BatchResult {
  readonly rows: number;
  readonly done: boolean;
  /** How long this batch held its locks (SQLite: the write lock; PostgreSQL: the batch's transaction). */
  readonly lockMs: number;
  /** How long the batch waited for another writer first. */
  readonly waitMs: number;
  readonly lastKey: number | null;
  /** The pause flag as read inside the transaction: set → the runner stops before the next batch. */
  readonly paused: boolean;
}

export interface BatchRequest {
  readonly node: string;
  readonly batchSize: number;
  readonly rowsPerSecond: number | null;
  readonly throttled: boolean;
  readonly clock: () => number;
}

/** What one store must provide for the engine to run a backfill on it. */
export interface BackfillDriver<M extends { readonly version: number }> {
  claim(migration: M, node: string, now: number, staleAfterMs: number, initialBatchSize: number): Promise<BackfillProgress | undefined>;
  read(version: number): Promise<BackfillProgress | undefined>;
  runBatch(migration: M, request: BatchRequest): Promise<BatchResult>;
  noteStats(version: number, longestLockMs: number, rowsPerSecond: number | null, throttled: boolean, node: string, now: number): Promise<void>;
  release(version: number, node: string): Promise<void>;
  /** Another writer held the lock: the batch rolled back whole and may be tried again later. */
  isBusy(error: unknown): boolean;
  /** Housekeeping between batches (SQLite: a passive WAL checkpoint every 20 batches). */
  afterBatch?(batches: number): void;
}

export interface BackfillEngineOptions {
  /** This node's id; the claim names it. */
  readonly node: string;
  /** The batch time the size adapts to (default 25 ms). */
  readonly targetBatchMs?: number;
  /** No batch should hold its lock longer (default 100 ms); one that did is cut to a quarter. */
  readonly lockBudgetMs?: number;
  readonly initialBatchSize?: number;
  readonly maxBatchSize?: number;
  /**
   * Request latency now relative to before the backfill (1 = as before). Above `pressureLimit`
   * (default 1.5) the runner rests longer between batches and halves its batch time.
   */
  readonly pressure?: () => number;
  readonly pressureLimit?: number;
  /** Rest between batches, as a share of the batch's own work time (default 1: half the time working). */
  readonly restRatio?: number;
  /** How often a paused or waiting runner looks at the database again (default 250 ms). */
  readonly pollMs?: number;
  /** A claim whose owner has not written for this long is taken over (default 30 s). */
  readonly staleAfterMs?: number;
  /**
   * True when the claim's owner is provably gone (e.g. its process on this host no longer exists,
   * as after a kill -9): its claim is taken over at once instead of after `staleAfterMs`.
   */
  readonly ownerGone?: (owner: string) => Promise<boolean>;
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

/** Seconds left at a rate, as shown in status and metrics. */
export function etaSeconds(state: BackfillState, rowsDone: number, rowsTotal: number, rowsPerSecond: number | null): number | null {
  if (state === 'done') return 0;
  return rowsPerSecond !== null && rowsPerSecond > 0 ? Math.max(0, rowsTotal - rowsDone) / rowsPerSecond : null;
}

/**
 * The next batch size: scaled toward the aim, growing at most 1.5× per batch (a wrong guess upward
 * costs lock time, downward only throughput); a batch over budget is cut to a quarter.
 */
export function nextBatchSize(size: number, lockMs: number, aimMs: number, budgetMs: number, maxSize: number): number {
  const ms = Math.max(lockMs, 0.05);
  return lockMs > budgetMs ? Math.max(1, Math.floor(size / 4)) : Math.max(1, Math.min(maxSize, Math.round(size * Math.min(1.5, aimMs / ms))));
}

type MutableSummary = { batches: number; longestLockMs: number; batchSizes: number[]; lockTimes: number[]; rows: number };

export class BackfillEngine<M extends { readonly version: number }> {
  private readonly driver: BackfillDriver<M>;
  private readonly options: BackfillEngineOptions;
  private stopping = false;
  private running: Promise<BackfillRunSummary> | undefined;
  private readonly clock: () => number;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(driver: BackfillDriver<M>, options: BackfillEngineOptions) {
    this.driver = driver;
    this.options = options;
    this.clock = options.clock ?? (() => performance.now());
    this.wait = options.wait ?? ((ms) => sleep(ms));
  }

  /** Starts (once) over `pending` and resolves when every one is done or `stop()` was called. */
  run(pending: () => Promise<readonly M[]> | readonly M[]): Promise<BackfillRunSummary> {
    this.running ??= this.loop(pending);
    return this.running;
  }

  /** Finishes the batch in progress (never interrupts one) and resolves once the runner is idle. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.running !== undefined) await this.running.catch(() => undefined);
  }

  private async loop(pending: () => Promise<readonly M[]> | readonly M[]): Promise<BackfillRunSummary> {
    const summary = { completed: [] as number[], batches: 0, longestLockMs: 0, batchSizes: [] as number[], lockTimes: [] as number[], rows: 0, stopped: false };
    for (const migration of await pending()) {
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
  private async runOne(migration: M, summary: MutableSummary): Promise<boolean> {
    const o = this.options;
    const d = this.driver;
    const target = o.targetBatchMs ?? 25;
    const budget = o.lockBudgetMs ?? 100;
    const maxSize = o.maxBatchSize ?? 20_000;
    const poll = o.pollMs ?? 250;
    const emit = async (kind: 'progress' | 'started' | 'paused' | 'resumed' | 'done' | 'throttled', lastBatchMs: number, batchSize: number): Promise<void> => {
      if (o.onEvent === undefined) return;
      const progress = await d.read(migration.version);
      if (progress !== undefined) o.onEvent({ kind, progress, lastBatchMs, batchSize });
    };

    const initialSize = o.initialBatchSize ?? 100;
    let claim = await d.claim(migration, o.node, Date.now(), o.staleAfterMs ?? 30_000, initialSize);
    while (claim === undefined) {
      const owner = (await d.read(migration.version))?.owner ?? null;
      if (owner !== null && o.ownerGone !== undefined && (await o.ownerGone(owner))) {
        claim = await d.claim(migration, o.node, Date.now(), 0, initialSize);
        if (claim !== undefined) break;
      }
      o.onEvent?.({ kind: 'waiting', version: migration.version, owner });
      if (this.stopping) return false;
      await this.wait(poll * 4);
      claim = await d.claim(migration, o.node, Date.now(), o.staleAfterMs ?? 30_000, initialSize);
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
    await emit('started', 0, batchSize);

    while (!this.stopping) {
      const pressure = o.pressure?.() ?? 1;
      const wasThrottled = throttled;
      throttled = pressure > (o.pressureLimit ?? 1.5);
      // Under pressure a batch aims at half the time, so each lock wait a request may meet is shorter.
      const aim = throttled ? target / 2 : target;
      const begun = this.clock();
      let batch;
      try {
        batch = await d.runBatch(migration, { node: o.node, batchSize, rowsPerSecond: rate, throttled, clock: this.clock });
      } catch (error) {
        if (!d.isBusy(error)) throw error;
        await this.wait(poll);
        continue;
      }
      if (batch.paused || (batch.rows === 0 && !batch.done)) {
        if (!paused) {
          paused = true;
          await emit('paused', lastMs, batchSize);
        }
        const owner = (await d.read(migration.version))?.owner;
        if (owner !== o.node) return this.runOne(migration, summary); // taken over: claim again (waits)
        // Keep the claim alive while paused, so no other node takes over a backfill held on purpose.
        if (++pausedPolls % 20 === 0) await d.noteStats(migration.version, longest, rate, false, o.node, Date.now());
        await this.wait(poll);
        continue;
      }
      if (paused) {
        paused = false;
        await emit('resumed', lastMs, batchSize);
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
        await d.noteStats(migration.version, longest, rate, false, o.node, Date.now());
        await emit('done', batch.lockMs, batchSize);
        return true;
      }
      batchSize = nextBatchSize(batchSize, batch.lockMs, aim, budget, maxSize);
      d.afterBatch?.(batches);
      // The rest follows the batch's whole work (SQLite derives before taking the lock), not its lock time.
      const worked = this.clock() - begun;
      const rest = Math.max(1, worked * (o.restRatio ?? 1)) * (throttled ? Math.min(20, pressure * pressure) : 1);
      await this.wait(rest);
      const elapsed = Math.max(0.001, this.clock() - begun);
      const instant = (batch.rows / elapsed) * 1000;
      rate = rate === null ? instant : rate * 0.8 + instant * 0.2;
      if (throttled !== wasThrottled && throttled) await emit('throttled', batch.lockMs, batchSize);
      if (batches % 10 === 0 || throttled !== wasThrottled) await d.noteStats(migration.version, longest, rate, throttled, o.node, Date.now());
      if (batches % (o.reportEvery ?? 20) === 0) await emit('progress', batch.lockMs, batchSize);
    }
    await d.noteStats(migration.version, longest, rate, throttled, o.node, Date.now());
    await d.release(migration.version, o.node);
    return false;
  }
}
