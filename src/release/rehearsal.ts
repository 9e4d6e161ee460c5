// The migration rehearsal (DESIGN.md §6): copy the live database online (VACUUM INTO), run
// every pending phase on the copy — expand statements as the start-up runner does, backfills with the
// background runner's own batching — under a synthetic client load in a worker thread, and time each
// statement and batch: longest lock held, rows per second, the full duration. A step whose lock
// exceeds the budget fails the rehearsal, with what to do instead. May import src/store; must not
// import DAV, HTTP or the CLI.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { BackfillRunner } from '../store/sqlite/backfill-runner.ts';
import { holdingWriteLock, planMigrations, readAppliedMigrations, recordMigration, type SqliteMigration } from '../store/sqlite/migrator.ts';
import { copyOnline } from '../store/sqlite/online-copy.ts';
import { databaseBytes } from '../store/sqlite/rehearsals.ts';
import type { LoadOptions, LoadReport } from './rehearsal-load.ts';
import { splitSqlStatements } from './sql-statements.ts';

export interface RehearsalStep {
  readonly version: number;
  readonly name: string;
  readonly phase: string;
  readonly wallMs: number;
  /** The longest time one transaction of this step held the write lock. */
  readonly longestLockMs: number;
  readonly statements?: { readonly sql: string; readonly ms: number }[];
  readonly rows?: number;
  readonly batches?: number;
  /** The lock time of the backfill's batches: median, 99th percentile, longest. */
  readonly batchLockMs?: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly rowsPerSecond?: number;
  readonly overBudget: boolean;
  readonly hint?: string;
}

export interface RehearsalReport {
  readonly migrationHash: string;
  readonly version: string;
  readonly createdAt: number;
  readonly dataBytes: number;
  readonly objectRows: number;
  readonly copyMs: number;
  readonly lockBudgetMs: number;
  readonly steps: RehearsalStep[];
  readonly longestLockMs: number;
  /** Measured on the copy, which is the live data as it was. */
  readonly totalMs: number;
  /** The same, scaled to the live row count when the rehearsal ends (rows added meanwhile). */
  readonly estimatedMs: number;
  readonly load: { readonly requests: number; readonly writes: number; readonly errors: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly passed: boolean;
  readonly failures: string[];
}

export interface RehearsalOptions {
  /** A connection to the live database; only read (one snapshot, VACUUM INTO), never written here. */
  readonly live: Database.Database;
  readonly migrations: readonly SqliteMigration[];
  readonly migrationHash: string;
  readonly version: string;
  readonly lockBudgetMs?: number;
  readonly targetBatchMs?: number;
  /** Synthetic requests per second against the copy (0 = none). */
  readonly loadRate?: number;
  readonly loadWriteShare?: number;
  /** Where the copy goes (a temporary folder by default); it is removed afterwards unless kept. */
  readonly workDir?: string;
  readonly keepCopy?: boolean;
  readonly onStep?: (step: RehearsalStep) => void;
}

const WORKER = new URL(`./rehearsal-load.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0);
}

function startLoad(options: LoadOptions): { stop(): Promise<LoadReport> } {
  const worker = new Worker(WORKER, { workerData: options });
  const report = new Promise<LoadReport>((resolve, reject) => {
    worker.once('message', (message: LoadReport) => resolve(message));
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const result = await report;
      await worker.terminate();
      return result;
    },
  };
}

function expandHint(step: { phase: string; statements: { sql: string; ms: number }[] }): string {
  const slowest = [...step.statements].sort((a, b) => b.ms - a.ms)[0];
  return `${slowest === undefined ? 'the step' : `"${slowest.sql}" (${slowest.ms.toFixed(1)} ms)`} holds the write lock too long: ` +
    (step.phase === 'contract'
      ? 'empty a large table in a batched backfill before dropping it, and never DROP COLUMN on a large table'
      : 'put new columns in a side table keyed by the primary key (created empty with its indexes, filled by a backfill, kept current by triggers — see migration 0009) instead of ADD COLUMN on a large STRICT table or CREATE INDEX on a large table');
}

/** Applies one expand or contract migration the way the runner does: one immediate transaction, timed per statement. */
function runDdlStep(db: Database.Database, migration: SqliteMigration): { lockMs: number; statements: { sql: string; ms: number }[] } {
  const statements: { sql: string; ms: number }[] = [];
  const { lockMs } = holdingWriteLock(db, () => performance.now(), () => {
    for (const statement of splitSqlStatements(migration.sql)) {
      const t = performance.now();
      db.exec(statement.text);
      statements.push({ sql: statement.text.replace(/\s+/gu, ' ').slice(0, 100), ms: performance.now() - t });
    }
    recordMigration(db, migration, Date.now());
  });
  return { lockMs, statements };
}

export async function rehearse(options: RehearsalOptions): Promise<RehearsalReport> {
  const budget = options.lockBudgetMs ?? 100;
  const dir = options.workDir ?? mkdtempSync(join(tmpdir(), 'almanac-rehearsal-'));
  const copyFile = join(dir, 'rehearsal.sqlite3');
  if (existsSync(copyFile)) rmSync(copyFile);
  const copyStarted = performance.now();
  copyOnline(options.live, copyFile);
  const copyMs = performance.now() - copyStarted;
  const db = new Database(copyFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const objectRows = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'objects'").get() as { n: number }).n > 0 ? (db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n : 0;
  const dataBytes = databaseBytes(options.live);
  const { pending } = planMigrations(readAppliedMigrations(db), options.migrations);
  const load = (options.loadRate ?? 200) > 0 ? startLoad({ file: copyFile, ratePerSecond: options.loadRate ?? 200, writeShare: options.loadWriteShare ?? 0.3, maxMs: 3_600_000 }) : undefined;
  const steps: RehearsalStep[] = [];
  const started = performance.now();
  let loadSummary: LoadReport | undefined;
  try {
    // Expand first (start-up runs all of them before serving), then backfills, then contract: the
    // order a release goes through.
    const order = [...pending.filter((m) => m.phase === 'expand'), ...pending.filter((m) => m.phase === 'backfill'), ...pending.filter((m) => m.phase === 'contract')];
    for (const migration of order) {
      const stepStarted = performance.now();
      let step: RehearsalStep;
      if (migration.backfill !== undefined) {
        // As a serving node's backfill thread runs it (src/store/sqlite/backfill-thread.ts).
        db.pragma('synchronous = NORMAL');
        const summary = await new BackfillRunner({
          db,
          migrations: [migration],
          node: 'rehearsal',
          lockBudgetMs: budget,
          ...(options.targetBatchMs === undefined ? {} : { targetBatchMs: options.targetBatchMs }),
          staleAfterMs: 0,
        }).run();
        db.pragma('synchronous = FULL');
        const wallMs = performance.now() - stepStarted;
        const overBudget = summary.longestLockMs > budget;
        const locks = [...summary.lockTimes].sort((a, b) => a - b);
        step = {
          version: migration.version,
          name: migration.name,
          phase: migration.phase,
          wallMs,
          longestLockMs: summary.longestLockMs,
          rows: summary.rows,
          batches: summary.batches,
          batchLockMs: { p50: percentile(locks, 0.5), p99: percentile(locks, 0.99), max: locks.at(-1) ?? 0 },
          rowsPerSecond: wallMs > 0 ? (summary.rows / wallMs) * 1000 : 0,
          overBudget,
          ...(overBudget ? { hint: `a batch held the lock ${summary.longestLockMs.toFixed(1)} ms even at its adapted size: make derive cheaper per row (read fewer columns, skip rows that need nothing), or lower the target batch time` } : {}),
        };
      } else {
        const { lockMs, statements } = runDdlStep(db, migration);
        const overBudget = lockMs > budget;
        step = {
          version: migration.version,
          name: migration.name,
          phase: migration.phase,
          wallMs: performance.now() - stepStarted,
          longestLockMs: lockMs,
          statements,
          overBudget,
          ...(overBudget ? { hint: expandHint({ phase: migration.phase, statements }) } : {}),
        };
      }
      steps.push(step);
      options.onStep?.(step);
    }
  } finally {
    loadSummary = load === undefined ? undefined : await load.stop().catch(() => undefined);
    db.close();
    if (options.keepCopy !== true) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${copyFile}${suffix}`, { force: true });
      if (options.workDir === undefined) rmSync(dir, { recursive: true, force: true });
    }
  }
  const totalMs = performance.now() - started;
  const liveRows = (options.live.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'objects'").get() as { n: number }).n > 0 ? (options.live.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n : 0;
  const sorted = [...(loadSummary?.latenciesMs ?? [])].sort((a, b) => a - b);
  const measuredLoad = {
    requests: loadSummary?.requests ?? 0,
    writes: loadSummary?.writes ?? 0,
    errors: loadSummary?.errors ?? 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.at(-1) ?? 0,
  };
  return rehearsalReport({ migrationHash: options.migrationHash, version: options.version, dataBytes, objectRows, liveRows, copyMs, lockBudgetMs: budget, steps, totalMs, load: measuredLoad }, 'held the write lock');
}

/**
 * The report both stores' rehearsals end with: the expected live duration, and a failure for each
 * step over the lock budget. `held` says what was held (SQLite: the write lock; PostgreSQL: its locks).
 */
export function rehearsalReport(
  measured: Pick<RehearsalReport, 'migrationHash' | 'version' | 'dataBytes' | 'objectRows' | 'copyMs' | 'lockBudgetMs' | 'steps' | 'totalMs' | 'load'> & { readonly liveRows: number },
  held: string,
): RehearsalReport {
  const { liveRows, ...report } = measured;
  const failures = report.steps
    .filter((s) => s.overBudget)
    .map((s) => `${s.version}-${s.name} (${s.phase}) ${held} ${s.longestLockMs.toFixed(1)} ms, over the ${report.lockBudgetMs} ms budget: ${s.hint ?? ''}`);
  return {
    ...report,
    createdAt: Date.now(),
    longestLockMs: Math.max(0, ...report.steps.map((s) => s.longestLockMs)),
    estimatedMs: extrapolatedMs(report.steps, report.totalMs, report.objectRows, liveRows),
    passed: failures.length === 0,
    failures,
  };
}

/**
 * The live run's expected duration: the rehearsal's own time, with its backfill time scaled by how
 * many objects the live database holds now against the copy's. Shared by both stores' rehearsals.
 */
export function extrapolatedMs(steps: readonly Pick<RehearsalStep, 'phase' | 'wallMs'>[], totalMs: number, objectRows: number, liveRows: number): number {
  const backfillMs = steps.filter((s) => s.phase === 'backfill').reduce((sum, s) => sum + s.wallMs, 0);
  return totalMs - backfillMs + (objectRows > 0 ? backfillMs * (liveRows / objectRows) : backfillMs);
}
