// The migration rehearsal on PostgreSQL (DESIGN.md §6): copy the live database without stopping
// service into a scratch database (pg_dump reads one consistent snapshot and takes only ACCESS SHARE
// locks, which no request waits for; piped straight into pg_restore), run every pending phase there —
// expand and contract through the migration runner with its start-up lock_timeout, backfills with the
// background runner's own engine — under a small synthetic client load, and time each step: how long
// its locks were held, the longest a synthetic request waited, rows per second. The scratch database
// is dropped afterwards. May import src/store; must not import DAV, HTTP or the CLI.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { backfillConnection, PostgresBackfillRunner } from '../store/postgres/backfill.ts';
import { applyMigrations, readAppliedMigrations, withMigrationLock, type PostgresMigration } from '../store/postgres/migrator.ts';
import { databaseBytes } from '../store/postgres/rehearsals.ts';
import { planMigrations } from '../store/sqlite/migrator.ts';
import { rehearsalReport, type RehearsalReport, type RehearsalStep } from './rehearsal.ts';

export interface PostgresRehearsalOptions {
  readonly url: string;
  readonly migrations: readonly PostgresMigration[];
  readonly migrationHash: string;
  readonly version: string;
  readonly lockBudgetMs?: number;
  /** Synthetic requests per second against the copy (0 = none). */
  readonly loadRate?: number;
  readonly onStep?: (step: RehearsalStep) => void;
}

/** pg_dump / pg_restore of the newest installed PostgreSQL (a dump needs a client at least as new as the server). */
function tool(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', name))).sort((a, b) => Number(b) - Number(a)) : [];
  return versions[0] === undefined ? name : join(root, versions[0], 'bin', name);
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'almanac-rehearsal' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** pg_dump -Fc of the live database piped into pg_restore into the scratch one. */
function copyDatabase(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // --lock-wait-timeout: never queue behind another node's DDL (requests would queue behind us).
    const dump = spawn(tool('pg_dump'), ['-Fc', '--no-owner', '--no-privileges', '--lock-wait-timeout=5000', '-d', from], { stdio: ['ignore', 'pipe', 'pipe'] });
    const restore = spawn(tool('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', '-d', to], { stdio: ['pipe', 'ignore', 'pipe'] });
    let errors = '';
    dump.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    restore.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    dump.stdout.pipe(restore.stdin);
    let pending = 2;
    let failed = false;
    const done = (what: string) => (code: number | null) => {
      if (code !== 0 && !failed) {
        failed = true;
        reject(new Error(`${what} exited with ${code}: ${errors.trim().slice(0, 500)}`));
      }
      if (--pending === 0 && !failed) resolve();
    };
    dump.on('error', reject);
    restore.on('error', reject);
    dump.on('exit', done('pg_dump'));
    restore.on('exit', done('pg_restore'));
  });
}

interface Load {
  /** Latencies (from when each operation was due) of operations due from now on. */
  mark(): number;
  /** The longest latency of the operations due since `mark`, or undefined when none was due. */
  maxSince(mark: number): number | undefined;
  stop(): Promise<RehearsalReport['load']>;
}

/** An open-loop stream of listings and small writes (as a PUT touches an object and its collection). */
async function startLoad(url: string, rate: number): Promise<Load | undefined> {
  if (rate <= 0) return undefined;
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'almanac-rehearsal-load' });
  pool.on('error', () => undefined);
  const collections = (await pool.query<{ id: string }>('SELECT id FROM collections WHERE object_count > 0 ORDER BY id LIMIT 1000')).rows.map((r) => Number(r.id));
  const maxObject = Number((await pool.query<{ id: string | null }>('SELECT max(id) AS id FROM objects')).rows[0]?.id ?? 0);
  const latencies: { due: number; ms: number }[] = [];
  let writes = 0;
  let errors = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const one = async (due: number, write: boolean): Promise<void> => {
    try {
      if (write && maxObject > 0) {
        writes += 1;
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const row = (await client.query<{ collection_id: string }>('UPDATE objects SET modified_at = $1 WHERE id = $2 RETURNING collection_id', [Date.now(), 1 + Math.floor(Math.random() * maxObject)])).rows[0];
          if (row !== undefined) await client.query('UPDATE collections SET sync_seq = sync_seq + 1, updated_at = $1 WHERE id = $2', [Date.now(), row.collection_id]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      } else if (collections.length > 0) {
        await pool.query('SELECT id, name, etag FROM objects WHERE collection_id = $1 ORDER BY name LIMIT 500', [collections[Math.floor(Math.random() * collections.length)]]);
      }
    } catch {
      errors += 1;
    }
    latencies.push({ due, ms: performance.now() - due });
  };
  const loop = (async () => {
    // Bounded: at most one hour of load, and it stops with the rehearsal.
    for (let i = 0; !stopped && performance.now() - started < 3_600_000; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // A backlog (the copy is slower than the rate) is not let grow: the operation is counted as an error.
      if (inFlight.size >= 32) {
        errors += 1;
        continue;
      }
      const p = one(due, Math.random() < 0.3);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  })();
  return {
    mark: () => performance.now(),
    maxSince: (mark) => {
      const since = latencies.filter((l) => l.due >= mark).map((l) => l.ms);
      return since.length === 0 ? undefined : Math.max(...since);
    },
    stop: async () => {
      stopped = true;
      await loop;
      await Promise.all(inFlight);
      await pool.end();
      const sorted = latencies.map((l) => l.ms).sort((a, b) => a - b);
      const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
      return { requests: sorted.length, writes, errors, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? 0 };
    },
  };
}

export async function rehearsePostgres(options: PostgresRehearsalOptions): Promise<RehearsalReport> {
  const budget = options.lockBudgetMs ?? 100;
  const scratchName = `almanac_rehearsal_${Date.now()}_${process.pid}`;
  const scratch = withDatabase(options.url, scratchName);
  const dataBytes = await withClient(options.url, async (client) => {
    await client.query(`CREATE DATABASE ${scratchName}`);
    return databaseBytes(client);
  });
  const steps: RehearsalStep[] = [];
  let objectRows = 0;
  let copyMs: number;
  let totalMs: number;
  let loadSummary: RehearsalReport['load'] | undefined;
  try {
    const copyStarted = performance.now();
    await copyDatabase(options.url, scratch);
    copyMs = performance.now() - copyStarted;
    const pending = await withClient(scratch, async (client) => {
      objectRows = Number((await client.query<{ n: string }>("SELECT CASE WHEN to_regclass('objects') IS NULL THEN 0 ELSE (SELECT count(*) FROM objects) END AS n")).rows[0]?.n ?? 0);
      const versions = new Set(planMigrations(await readAppliedMigrations(client), options.migrations).pending.map((m) => m.version));
      return options.migrations.filter((m) => versions.has(m.version));
    });
    const load = await startLoad(scratch, options.loadRate ?? 50);
    const started = performance.now();
    try {
      // The order a release goes through: expand at start-up, then backfills, then contract.
      const order = [...pending.filter((m) => m.phase === 'expand'), ...pending.filter((m) => m.phase === 'backfill'), ...pending.filter((m) => m.phase === 'contract')];
      for (const migration of order) {
        const mark = load?.mark() ?? 0;
        const stepStarted = performance.now();
        let step: Omit<RehearsalStep, 'overBudget'>;
        if (migration.backfill !== undefined) {
          const client = await backfillConnection(scratch);
          let summary;
          try {
            summary = await new PostgresBackfillRunner(client, [migration], { node: 'rehearsal', lockBudgetMs: budget, staleAfterMs: 0 }).run();
          } finally {
            await client.end().catch(() => undefined);
          }
          const wallMs = performance.now() - stepStarted;
          const locks = [...summary.lockTimes].sort((a, b) => a - b);
          const at = (p: number): number => locks[Math.min(locks.length - 1, Math.floor(locks.length * p))] ?? 0;
          step = {
            version: migration.version, name: migration.name, phase: migration.phase, wallMs, longestLockMs: summary.longestLockMs,
            rows: summary.rows, batches: summary.batches, batchLockMs: { p50: at(0.5), p99: at(0.99), max: locks.at(-1) ?? 0 },
            rowsPerSecond: wallMs > 0 ? (summary.rows / wallMs) * 1000 : 0,
          };
        } else {
          await withMigrationLock({ url: scratch }, (client) => applyMigrations(client, options.migrations, { url: scratch }, { allowed: (m) => m.version === migration.version }));
          const wallMs = performance.now() - stepStarted;
          // A transactional step holds its table locks until COMMIT; CREATE INDEX CONCURRENTLY holds none writers wait for.
          step = { version: migration.version, name: migration.name, phase: migration.phase, wallMs, longestLockMs: migration.transactional === false ? 0 : wallMs };
        }
        const waited = load?.maxSince(mark);
        const overBudget = step.longestLockMs > budget;
        const full: RehearsalStep = {
          ...step,
          ...(waited === undefined ? {} : { statements: [{ sql: `the longest synthetic request due during this step (lock waits included)`, ms: waited }] }),
          overBudget,
          ...(overBudget ? { hint: `held its locks ${step.longestLockMs.toFixed(1)} ms: split it, build indexes CONCURRENTLY, add constraints NOT VALID then VALIDATE, or move the work into a batched backfill` } : {}),
        };
        steps.push(full);
        options.onStep?.(full);
      }
    } finally {
      totalMs = performance.now() - started;
      loadSummary = load === undefined ? undefined : await load.stop();
    }
  } finally {
    await withClient(options.url, (client) => client.query(`DROP DATABASE IF EXISTS ${scratchName} WITH (FORCE)`)).catch(() => undefined);
  }
  const liveRows = await withClient(options.url, async (client) =>
    Number((await client.query<{ n: string }>("SELECT CASE WHEN to_regclass('objects') IS NULL THEN 0 ELSE (SELECT count(*) FROM objects) END AS n")).rows[0]?.n ?? 0),
  );
  const load = loadSummary ?? { requests: 0, writes: 0, errors: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  return rehearsalReport({ migrationHash: options.migrationHash, version: options.version, dataBytes, objectRows, liveRows, copyMs, lockBudgetMs: budget, steps, totalMs, load }, 'held its locks');
}
